// What the node-local section measures with, on the local cluster: glibc lookups in loops inside
// client pods (getent ahosts: A and AAAA sent in parallel over one UDP socket, the pattern of the
// conntrack insert race), the DNS replicas' own request counters, and the conntrack statistics
// of each node's network namespace (insert_failed is the race's trace in the kernel).
import { execa } from "execa";
import type { LocalCluster } from "../../support/localcluster/local-cluster.ts";
import { inNetns, listPods, type PodInfo } from "../../support/local-cluster.ts";
import { metricValue } from "../../support/fault-traffic.ts";

/** One lookup: when it started (ms since the epoch), how long it took, whether it resolved. */
export interface Lookup {
  readonly startMs: number;
  readonly ms: number;
  readonly ok: boolean;
}

/**
 * The loop each worker runs, in bash so no fork but getent's is timed: one line per lookup,
 * "START END ok|fail" in seconds ($EPOCHREALTIME). glibc's defaults apply (timeout 5 s, two
 * attempts), as in a pod that sets nothing.
 */
const LOOP = `end=$(( EPOCHSECONDS + $1 ))
while [ "$EPOCHSECONDS" -lt "$end" ]; do
  s=$EPOCHREALTIME
  if getent ahosts "$2" >/dev/null 2>&1; then r=ok; else r=fail; fi
  echo "$s $EPOCHREALTIME $r"
done`;

export function loopCommand(seconds: number, name: string): string {
  return `ip netns exec POD bash -c '<loop: getent ahosts ${name}, timed, for ${seconds} s>'`;
}

function parse(out: string): Lookup[] {
  const lookups: Lookup[] = [];
  for (const line of out.split("\n")) {
    const [s, e, r] = line.trim().split(" ");
    if (s === undefined || e === undefined || r === undefined) continue;
    const start = Number(s.replace(",", "."));
    const end = Number(e.replace(",", "."));
    if (!Number.isFinite(start) || !Number.isFinite(end)) continue;
    lookups.push({ startMs: start * 1000, ms: (end - start) * 1000, ok: r === "ok" });
  }
  return lookups;
}

/** `workers` loops in each pod for `seconds`, all at once; every lookup they made. */
export async function lookupLoops(netnses: readonly string[], workers: number, seconds: number, name: string): Promise<Lookup[]> {
  const runs = netnses.flatMap((ns) =>
    Array.from({ length: workers }, () => execa("ip", ["netns", "exec", ns, "bash", "-c", LOOP, "loop", String(seconds), name], { reject: false, timeout: (seconds + 60) * 1000 })),
  );
  const results = await Promise.all(runs);
  return results.flatMap((r) => parse(typeof r.stdout === "string" ? r.stdout : ""));
}

/** Every DNS replica's coredns_dns_requests_total, summed: node-local ones on their node's address, the Deployment's on their pod IP. */
export async function dnsRequestsTotal(c: LocalCluster): Promise<number> {
  let sum = 0;
  const node = c.nodes[0];
  if (node === undefined) return 0;
  const read = async (netns: string, url: string): Promise<number> => {
    const r = await inNetns(netns, "curl", ["-s", "-f", "-m", "3", url]);
    return r.exitCode === 0 ? metricValue(r.stdout, "coredns_dns_requests_total") : 0;
  };
  for (const p of await listPods(c, "kube-system", "k8s-app=kube-dns")) sum += await read(node.netns, `http://${p.ip}:9153/metrics`);
  for (const p of await listPods(c, "kube-system", "k8s-app=signpost-dns-node-local")) {
    const n = c.nodes.find((x) => x.name === p.node);
    if (n !== undefined) sum += await read(n.netns, `http://${n.ip}:9253/metrics`);
  }
  return sum;
}

export interface ConntrackStats {
  readonly insertFailed: number;
  readonly drop: number;
  readonly clashResolve: number;
}

/** `conntrack -S` summed over CPUs, for every node: the counters are per network namespace. */
export async function conntrackStats(c: LocalCluster): Promise<ConntrackStats> {
  let insertFailed = 0;
  let drop = 0;
  let clashResolve = 0;
  for (const n of c.nodes) {
    const r = await inNetns(n.netns, "conntrack", ["-S"]);
    for (const line of r.stdout.split("\n")) {
      const field = (key: string): number => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? "0");
      insertFailed += field("insert_failed");
      drop += field("drop");
      clashResolve += field("clash_resolve");
    }
  }
  return { insertFailed, drop, clashResolve };
}

export function statsDelta(after: ConntrackStats, before: ConntrackStats): ConntrackStats {
  return { insertFailed: after.insertFailed - before.insertFailed, drop: after.drop - before.drop, clashResolve: after.clashResolve - before.clashResolve };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

export function netnsOfPod(c: LocalCluster, p: PodInfo): string {
  return c.podNetns(p.node, p.uid, p.hostNetwork);
}
