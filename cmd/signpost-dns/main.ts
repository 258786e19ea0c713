// signpost-dns: cluster DNS that replaces CoreDNS. This entry point parses flags, connects to the
// API server and follows Services, EndpointSlices and Namespaces; answering from them is wired
// in pkg/dns as that work lands.
import pino from "pino";
import { Registry } from "prom-client";
import { parseFlags, renderHelp, stringFlag, type FlagSpecs } from "../../pkg/cli/flags.ts";
import { runMain } from "../../pkg/cli/run-main.ts";
import { loadKubeConfig } from "../../pkg/kube/load-kubeconfig.ts";
import { ApiClient } from "../../pkg/kube/api-client.ts";
import { informerMetrics } from "../../pkg/kube/informer-metrics.ts";
import { endpointSliceInformer, namespaceInformer, serviceInformer } from "../../pkg/kube/cluster-informers.ts";

const flags: FlagSpecs = {
  kubeconfig: { type: "string", help: "path to a kubeconfig; in-cluster or ~/.kube/config when unset" },
  zone: { type: "string", help: "the cluster domain", default: "cluster.local" },
};

runMain("signpost-dns", async () => {
  const { values } = parseFlags(process.argv.slice(2), flags);
  if (values["help"] === true) {
    process.stdout.write(renderHelp("signpost-dns", "Answers Kubernetes Service and Pod names (replaces CoreDNS).", flags));
    return;
  }
  const log = pino({ name: "signpost-dns" });
  const kc = loadKubeConfig(stringFlag(values, "kubeconfig") || undefined);
  const registry = new Registry();
  const deps = { client: new ApiClient(kc), log, metrics: informerMetrics(registry) };
  const informers = [serviceInformer(deps), endpointSliceInformer(deps), namespaceInformer(deps)];
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.synced()));
  log.info({ objects: informers.map((i) => `${i.size}`).join("/") }, "synced");
  const stop = async (): Promise<void> => {
    await Promise.all(informers.map((i) => i.stop()));
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});
