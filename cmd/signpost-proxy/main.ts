// signpost-proxy: the per-node Service proxy that replaces kube-proxy. This entry point parses
// flags, connects to the API server and follows Services and EndpointSlices; programming
// iptables from them is wired in pkg/proxy as that work lands.
import pino from "pino";
import { Registry } from "prom-client";
import { parseFlags, renderHelp, stringFlag, type FlagSpecs } from "../../pkg/cli/flags.ts";
import { runMain } from "../../pkg/cli/run-main.ts";
import { loadKubeConfig } from "../../pkg/kube/load-kubeconfig.ts";
import { ApiClient } from "../../pkg/kube/api-client.ts";
import { informerMetrics } from "../../pkg/kube/informer-metrics.ts";
import { endpointSliceInformer, serviceInformer } from "../../pkg/kube/cluster-informers.ts";

const flags: FlagSpecs = {
  kubeconfig: { type: "string", help: "path to a kubeconfig; in-cluster or ~/.kube/config when unset" },
  "hostname-override": { type: "string", help: "this node's name, if not the hostname" },
  "cluster-cidr": { type: "string", help: "the pod CIDR(s), comma-separated; traffic from outside is masqueraded" },
};

runMain("signpost-proxy", async () => {
  const { values } = parseFlags(process.argv.slice(2), flags);
  if (values["help"] === true) {
    process.stdout.write(renderHelp("signpost-proxy", "Programs iptables NAT rules for Kubernetes Services on this node (replaces kube-proxy).", flags));
    return;
  }
  const log = pino({ name: "signpost-proxy" });
  const kc = loadKubeConfig(stringFlag(values, "kubeconfig") || undefined);
  const registry = new Registry();
  const deps = { client: new ApiClient(kc), log, metrics: informerMetrics(registry) };
  const services = serviceInformer(deps, "!service.kubernetes.io/service-proxy-name");
  const slices = endpointSliceInformer(deps, "!service.kubernetes.io/service-proxy-name");
  services.start();
  slices.start();
  await Promise.all([services.synced(), slices.synced()]);
  log.info({ services: services.size, endpointSlices: slices.size }, "synced");
  const stop = async (): Promise<void> => {
    await Promise.all([services.stop(), slices.stop()]);
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});
