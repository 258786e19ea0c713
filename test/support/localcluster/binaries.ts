// Where the control-plane binaries live: the cache hack/build-control-plane.sh fills, keyed by
// version, or SIGNPOST_K8S_BIN when set.
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { LocalClusterError } from "./cluster-error.ts";

export const K8S_VERSION = "v1.36.3";
export const ETCD_VERSION = "v3.6.16";

export function controlPlaneBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env["SIGNPOST_K8S_BIN"];
  if (explicit !== undefined && explicit !== "") return explicit;
  const cache = env["SIGNPOST_CACHE"] ?? join(homedir(), ".cache", "signpost");
  return join(cache, "control-plane", `k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}`, "bin");
}

export function requireBinary(binDir: string, name: string): string {
  const path = join(binDir, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new LocalClusterError(path, `${name} is missing; run ./hack/build-control-plane.sh (or ./hack/test.sh) to build it`);
  }
  return path;
}
