// --write-config-to: the configuration the flags and --config resolve to, written back as a
// KubeProxyConfiguration file, as kube-proxy writes its own. Only the fields signpost-proxy
// reads appear; the file reads back (--config) to the same options, so an operator can start
// from it, edit it and put it in the kube-proxy ConfigMap.
import { dump } from "js-yaml";
import type { DaemonOptions } from "./proxy-options.ts";
import { KUBE_PROXY_CONFIG_VERSION } from "./kube-proxy-config.ts";

/** A duration as Go prints a time.Duration: 0s, 500ms, 1s, 1m30s, 15m0s, 24h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = `${(ms % 60_000) / 1000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** The KubeProxyConfiguration document of these options, as YAML. */
export function kubeProxyConfigFile(options: DaemonOptions): string {
  const { settings, conntrack } = options;
  const document = {
    apiVersion: KUBE_PROXY_CONFIG_VERSION,
    kind: "KubeProxyConfiguration",
    clientConnection: { kubeconfig: options.kubeconfig ?? "" },
    hostnameOverride: options.hostnameOverride,
    mode: "iptables",
    clusterCIDR: settings.clusterCIDRs.join(","),
    detectLocalMode: settings.detectLocal.mode,
    detectLocal: { bridgeInterface: settings.detectLocal.bridgeInterface, interfaceNamePrefix: settings.detectLocal.interfaceNamePrefix },
    nodePortAddresses: [...settings.nodePortAddresses],
    iptables: {
      masqueradeAll: settings.masqueradeAll,
      masqueradeBit: 14,
      localhostNodePorts: settings.localhostNodePorts,
      syncPeriod: goDuration(options.syncPeriodMs),
      minSyncPeriod: goDuration(options.minSyncPeriodMs),
    },
    conntrack: {
      maxPerCore: conntrack.maxPerCore,
      min: conntrack.min,
      tcpEstablishedTimeout: goDuration(conntrack.tcpEstablishedTimeout * 1000),
      tcpCloseWaitTimeout: goDuration(conntrack.tcpCloseWaitTimeout * 1000),
      tcpBeLiberal: conntrack.tcpBeLiberal,
      udpTimeout: goDuration(conntrack.udpTimeout * 1000),
      udpStreamTimeout: goDuration(conntrack.udpStreamTimeout * 1000),
    },
    healthzBindAddress: options.healthzBindAddress,
    metricsBindAddress: options.metricsBindAddress,
    bindAddressHardFail: options.bindAddressHardFail,
    oomScoreAdj: options.oomScoreAdj,
    configSyncPeriod: goDuration(options.configSyncPeriodMs),
  };
  return dump(document, { lineWidth: -1 });
}
