// Runs the local control plane in the foreground until SIGTERM or SIGINT, for
// hack/local-up.sh. Writes admin.kubeconfig and a "ready" file into --state-dir once /readyz
// answers, and removes them again on the way out.
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ControlPlane } from "../pkg/localcluster/control-plane.ts";
import { parseFlags, stringFlag } from "../pkg/cli/flags.ts";

const { values } = parseFlags(process.argv.slice(2), {
  "state-dir": { type: "string", help: "where to write admin.kubeconfig and ready", default: "/run/signpost-local" },
  "advertise-address": { type: "string", help: "the API server's address in the kubernetes Service", default: "" },
});
const stateDir = stringFlag(values, "state-dir");
const advertise = stringFlag(values, "advertise-address");
await mkdir(stateDir, { recursive: true });

const log = (m: string): void => console.error(`[local-cluster] ${m}`);
const cp = await ControlPlane.start({
  controllerManager: true,
  scheduler: true,
  log,
  // Inside the state directory, so local-down.sh removes it even after a SIGKILL.
  baseDir: stateDir,
  ...(advertise === "" ? {} : { advertiseAddress: advertise }),
});
await copyFile(cp.kubeconfigPath, join(stateDir, "admin.kubeconfig"));
await writeFile(join(stateDir, "ready"), `${cp.apiServerUrl}\n`);
log(`ready: ${cp.apiServerUrl}; kubeconfig ${join(stateDir, "admin.kubeconfig")}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await cp.stop();
  await rm(join(stateDir, "ready"), { force: true });
  await rm(join(stateDir, "admin.kubeconfig"), { force: true });
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
