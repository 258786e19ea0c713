// The kubernetes-plugin options of the `cluster` section beyond zone, ttl and pods: which
// namespaces are served (CoreDNS `namespaces`), endpoint names from Pod names
// (`endpoint_pod_names`), no endpoint records (`noendpoints`), and the reverse zones: the CIDRs
// whose PTR questions the cluster answers, and the zones whose unknown names go on upstream
// (`fallthrough`). All size or shape the record store, so they take effect at a restart.
import { canonicalCIDR } from "../../model/ip.ts";
import { bad, boolean, forwardZoneName, string } from "./dns-config-file.ts";

export interface ClusterOptions {
  /** The namespaces served, or null for all. */
  readonly namespaces: readonly string[] | null;
  readonly endpointPodNames: boolean;
  readonly noEndpoints: boolean;
  /** The CIDRs (canonical) whose reverse names the cluster answers; null for every address, [] for none. */
  readonly reverseCIDRs: readonly string[] | null;
  /** Zones whose names the cluster lacks go on to the upstream; kubeadm's in-addr.arpa and ip6.arpa by default. */
  readonly fallthrough: readonly string[];
}

export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  namespaces: null,
  endpointPodNames: false,
  noEndpoints: false,
  reverseCIDRs: null,
  fallthrough: ["in-addr.arpa", "ip6.arpa"],
};

export type ClusterOptionsFile = { -readonly [K in keyof ClusterOptions]?: ClusterOptions[K] };

const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseNamespaces(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw bad(path, "must be a list of at least one namespace (leave it out to serve all)");
  return value.map((v, i) => {
    const name = string(v, `${path}[${i}]`);
    if (!NAMESPACE.test(name)) throw bad(`${path}[${i}]`, `"${name}" is not a namespace name`);
    return name;
  });
}

/** [] is no reverse zone at all: every PTR question goes upstream (CoreDNS's `kubernetes cluster.local` alone). */
export function parseReverseCIDRs(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw bad(path, "must be a list of CIDRs (leave it out to answer every address; [] for none)");
  return value.map((v, i) => {
    const cidr = canonicalCIDR(string(v, `${path}[${i}]`));
    if (cidr === null) throw bad(`${path}[${i}]`, `${JSON.stringify(v)} is not a CIDR (examples: 10.96.0.0/12, fd00:10:96::/112)`);
    return cidr;
  });
}

/** Reverse zones only: a cluster name the cluster lacks stays NXDOMAIN, as a search path needs. */
export function parseClusterFallthrough(value: unknown, path: string): string[] {
  if (typeof value === "boolean") return value ? ["in-addr.arpa", "ip6.arpa"] : [];
  if (!Array.isArray(value)) throw bad(path, "must be true, false or a list of reverse zones");
  return value.map((v, i) => {
    const zone = forwardZoneName(v, `${path}[${i}]`);
    if (!/(^|\.)(in-addr|ip6)\.arpa$/.test(zone)) throw bad(`${path}[${i}]`, `"${zone}" is not a reverse zone; names of the cluster zone the cluster lacks are NXDOMAIN`);
    return zone;
  });
}

export function readFlag(out: ClusterOptionsFile, key: "endpointPodNames" | "noEndpoints", value: unknown, path: string): void {
  out[key] = boolean(value, path);
}

/** The options that differ from the defaults, for the configuration log line. */
export function describeClusterOptions(options: ClusterOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_CLUSTER_OPTIONS) as (keyof ClusterOptions)[]) {
    if (JSON.stringify(options[key]) !== JSON.stringify(DEFAULT_CLUSTER_OPTIONS[key])) out[key] = options[key];
  }
  return out;
}
