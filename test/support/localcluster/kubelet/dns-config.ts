// A pod's /etc/resolv.conf from its dnsPolicy and dnsConfig, as the kubelet writes it.
import type { V1PodSpec } from "@kubernetes/client-node";

export interface ClusterDnsSettings {
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
  /** What "Default" means: the node's own resolv.conf. */
  readonly nodeResolvConf: string;
}

export function podResolvConf(namespace: string, spec: Pick<V1PodSpec, "dnsPolicy" | "hostNetwork" | "dnsConfig">, s: ClusterDnsSettings): string {
  const policy = spec.dnsPolicy ?? "ClusterFirst";
  const clusterFirst = policy === "ClusterFirstWithHostNet" || (policy === "ClusterFirst" && spec.hostNetwork !== true);
  let nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (clusterFirst) {
    nameservers = [...s.clusterDNS];
    const d = s.clusterDomain;
    searches = [`${namespace}.svc.${d}`, `svc.${d}`, d];
    options = ["ndots:5"];
  } else if (policy !== "None") {
    for (const line of s.nodeResolvConf.split("\n")) {
      const [key, ...rest] = line.trim().split(/\s+/);
      if (key === "nameserver") nameservers.push(...rest);
      if (key === "search") searches = rest;
      if (key === "options") options.push(...rest);
    }
  }
  const extra = spec.dnsConfig;
  if (extra !== undefined) {
    nameservers.push(...(extra.nameservers ?? []));
    searches.push(...(extra.searches ?? []));
    for (const o of extra.options ?? []) {
      if (o.name === undefined) continue;
      options = options.filter((x) => x.split(":")[0] !== o.name);
      options.push(o.value === undefined ? o.name : `${o.name}:${o.value}`);
    }
  }
  const lines = nameservers.slice(0, 3).map((n) => `nameserver ${n}`);
  if (searches.length > 0) lines.push(`search ${searches.join(" ")}`);
  if (options.length > 0) lines.push(`options ${options.join(" ")}`);
  return lines.join("\n") + "\n";
}
