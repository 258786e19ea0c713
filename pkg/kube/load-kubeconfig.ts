// Loads the credentials a daemon talks to the API server with: the --kubeconfig file when given,
// else the in-cluster service account, else $KUBECONFIG or ~/.kube/config. Every failure names
// the file and the field, so an operator knows what to fix. A user's `tokenFile` (what kubeadm's
// kube-proxy ConfigMap writes) is honoured: client-node reads only its auth-provider spelling.
import { accessSync, constants, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { load } from "js-yaml";
// From its own module, not the package root, which loads the whole generated API (see
// pkg/cli/trim-client-node.ts).
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { SignpostError } from "../errors/errors.ts";
import { errorFirstLine } from "../errors/error-message.ts";

export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (path === undefined || path === "") {
    if (env["KUBERNETES_SERVICE_HOST"] !== undefined && env["KUBERNETES_SERVICE_HOST"] !== "") {
      try {
        kc.loadFromCluster();
      } catch (err) {
        throw new SignpostError("SP_BAD_KUBECONFIG", "in-cluster config", "cannot read the service account token or CA", { cause: err });
      }
      return validated(kc, "in-cluster config");
    }
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new SignpostError("SP_BAD_KUBECONFIG", env["KUBECONFIG"] ?? "~/.kube/config", errorFirstLine(err), { cause: err });
    }
    return validated(kc, env["KUBECONFIG"] ?? "~/.kube/config");
  }
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new SignpostError("SP_BAD_KUBECONFIG", path, "the file does not exist or is not readable");
  }
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new SignpostError("SP_BAD_KUBECONFIG", path, errorFirstLine(err), { cause: err });
  }
  withTokenFiles(kc, path);
  return validated(kc, path);
}

/**
 * Gives each user that names a `tokenFile` (and no token or auth provider) client-node's
 * tokenFile auth provider, which reads the file again as it changes (a projected service
 * account token rotates). A relative path is relative to the kubeconfig, as kubectl takes it.
 */
function withTokenFiles(kc: KubeConfig, path: string): void {
  const raw: unknown = load(readFileSync(path, "utf8"));
  const users = typeof raw === "object" && raw !== null && "users" in raw && Array.isArray(raw.users) ? (raw.users as unknown[]) : [];
  const tokenFiles = new Map<string, string>();
  for (const entry of users) {
    if (typeof entry !== "object" || entry === null || !("name" in entry) || !("user" in entry)) continue;
    const user = entry.user;
    if (typeof entry.name !== "string" || typeof user !== "object" || user === null || !("tokenFile" in user)) continue;
    if (typeof user.tokenFile === "string" && user.tokenFile !== "") tokenFiles.set(entry.name, resolve(dirname(path), user.tokenFile));
  }
  if (tokenFiles.size === 0) return;
  kc.users = kc.users.map((user) => {
    const tokenFile = tokenFiles.get(user.name);
    if (tokenFile === undefined || (user.token ?? "") !== "" || user.authProvider !== undefined) return user;
    return { ...user, authProvider: { name: "tokenFile", config: { tokenFile } } };
  });
}

function validated(kc: KubeConfig, where: string): KubeConfig {
  // client-node types it as a string, but it is undefined when the file sets none.
  const current: unknown = kc.getCurrentContext();
  const contextName = typeof current === "string" ? current : "";
  if (contextName === "" || kc.getContextObject(contextName) === null) {
    throw new SignpostError("SP_BAD_KUBECONFIG", `${where}: current-context`, contextName === "" ? "no current-context is set" : `context "${contextName}" is not defined`);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new SignpostError("SP_BAD_KUBECONFIG", `${where}: contexts[${contextName}].cluster`, "names a cluster that is not defined");
  if (cluster.server === "") throw new SignpostError("SP_BAD_KUBECONFIG", `${where}: clusters[${cluster.name}].server`, "is empty");
  try {
    new URL(cluster.server);
  } catch {
    throw new SignpostError("SP_BAD_KUBECONFIG", `${where}: clusters[${cluster.name}].server`, `"${cluster.server}" is not a URL`);
  }
  if (kc.getCurrentUser() === null) throw new SignpostError("SP_BAD_KUBECONFIG", `${where}: contexts[${contextName}].user`, "names a user that is not defined");
  return kc;
}
