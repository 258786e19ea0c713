// Runs the local cluster (control plane and network-namespace nodes with netns kubelets) in the
// foreground until SIGTERM or SIGINT, for hack/local-up.sh. Writes admin.kubeconfig and a
// "ready" file into --state-dir once every node is Ready, and removes them on the way out.
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pino from "pino";
import { LocalCluster } from "../test/support/localcluster/local-cluster.ts";
import { numberFlag, parseFlags, stringFlag } from "../pkg/cli/flags.ts";
import { runMain } from "../pkg/cli/run-main.ts";

runMain("local-cluster", async () => {
  const { values } = parseFlags(process.argv.slice(2), {
    "state-dir": { type: "string", help: "where to write admin.kubeconfig and ready", default: "/run/signpost-local" },
    nodes: { type: "integer", help: "how many nodes", default: 2 },
  });
  const stateDir = stringFlag(values, "state-dir");
  await mkdir(stateDir, { recursive: true });
  const log = pino({ name: "local-cluster" });
  const cluster = await LocalCluster.start({
    log, nodes: numberFlag(values, "nodes"), prefix: "signpost-local",
    repoRoot: join(import.meta.dirname, ".."),
    // Inside the state directory, so local-down.sh removes it even after a SIGKILL.
    baseDir: stateDir,
  });
  await copyFile(cluster.kubeconfigPath, join(stateDir, "admin.kubeconfig"));
  const overlay = await cluster.writeSignpostOverlay(join(import.meta.dirname, ".."));
  const summary = {
    apiServer: cluster.controlPlane.apiServerUrl,
    nodes: cluster.nodes.map((n) => ({ name: n.name, ip: n.ip, netns: n.netns, podCIDR: n.podCIDR })),
    externalClient: cluster.externalNetns,
    signpostOverlay: overlay,
  };
  await writeFile(join(stateDir, "cluster.json"), JSON.stringify(summary, null, 2) + "\n");
  await writeFile(join(stateDir, "ready"), `${cluster.controlPlane.apiServerUrl}\n`);
  log.info(summary, "local cluster ready");

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await cluster.stop();
    await rm(join(stateDir, "ready"), { force: true });
    await rm(join(stateDir, "admin.kubeconfig"), { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
});
