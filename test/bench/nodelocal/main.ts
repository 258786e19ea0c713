// The node-local section of `npm run bench` (`npm run bench -- nodelocal`): issue 18's figures on
// the local cluster (real kube-apiserver, nodes and pods as network namespaces, the kernel's
// netfilter), the node-local layout (deploy/ with deploy/node-local) against the plain layout
// (the same cluster with the node-local DaemonSet kept off every node, so kube-dns DNATs to the
// Deployment's replicas), taking turns:
//   (a) the conntrack insert race: glibc lookups (parallel A and AAAA over one socket) in loops
//       from many pods; lookups of 1 s or more (a lost query waits glibc's 5 s timeout), failed
//       lookups, and the nodes' conntrack insert_failed counters;
//   (b) queries per outside-name lookup with ndots:5, counted by the DNS replicas themselves;
//   (c) p50 and p99 lookup latency from the same loops;
//   (d) lookups lost while a replica is deleted (rolled) or SIGKILLed (as an OOM kill) under a
//       lookup loop: the node's own replica in the node-local layout, a Deployment replica in the
//       plain one.
//   node test/bench/nodelocal/main.ts   (BENCH_QUICK=1: fewer pods, shorter loops, one round)
// It measures; it asserts nothing. The machine is shared: the load average is recorded.
import { loadavg, release } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { execFileSync } from "node:child_process";
import type { LocalCluster } from "../../support/localcluster/local-cluster.ts";
import { UPSTREAM_ZONE } from "../../support/localcluster/upstream-dns.ts";
import { eventually } from "../../support/eventually.ts";
import { applyManifest, namespaceWithServiceManifest, inNetns, kubectlFor, listPods, startClusterWithSignpost, waitForReadyPods, type PodInfo } from "../../support/local-cluster.ts";
import { machineVersions } from "../machine.ts";
import { writeSectionResults } from "../results.ts";
import { MeasuredImpl, nodeLocalCurves, nodeLocalFigures, type Layout, type Measured } from "./figures.ts";
import { conntrackStats, dnsRequestsTotal, lookupLoops, netnsOfPod, statsDelta, type Lookup } from "./lookups.ts";

const NS = "bench";
const quick = process.env["BENCH_QUICK"] === "1";
const plan = {
  pods: quick ? 4 : 10,
  workers: 2,
  raceSeconds: quick ? 5 : 20,
  rounds: quick ? 1 : 2,
  outsideLookups: quick ? 5 : 20,
  disruptionSeconds: quick ? 20 : 30,
};
const OUTSIDE_NAME = `www.${UPSTREAM_ZONE}`;

const log = (message: string): void => {
  process.stderr.write(`[bench nodelocal] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => process.exit(130));

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");

async function rawChainLength(netns: string): Promise<number> {
  const r = await inNetns(netns, "iptables", ["-t", "raw", "-S", "SIGNPOST-NODE-LOCAL"]);
  return r.stdout.split("\n").filter((l) => l.startsWith("-A ")).length;
}

/** Keeps the node-local DaemonSet off every node (plain) or on every node (node-local), and waits for the proxies to follow. */
async function useLayout(c: LocalCluster, layout: Layout): Promise<void> {
  const selector = layout === "plain" ? `{"signpost-bench/no-node-local":"true","kubernetes.io/os":null}` : `{"signpost-bench/no-node-local":null,"kubernetes.io/os":"linux"}`;
  const r = await kubectlFor(c)("-n", "kube-system", "patch", "daemonset", "signpost-dns-node-local", "--type=merge", "-p", `{"spec":{"template":{"spec":{"nodeSelector":${selector}}}}}`);
  if (r.exitCode !== 0) throw new Error(`patch: ${r.stderr}`);
  if (layout === "plain") {
    await eventually(async () => (await listPods(c, "kube-system", "k8s-app=signpost-dns-node-local")).length === 0, "no node-local replica", 120_000);
  } else {
    await waitForReadyPods(c, "kube-system", "k8s-app=signpost-dns-node-local", c.nodes.length, "a node-local replica on each node", 120_000);
  }
  // From pods: one NOTRACK rule for UDP, one for TCP.
  const want = layout === "plain" ? 0 : 2;
  await eventually(async () => {
    for (const n of c.nodes) if ((await rawChainLength(n.netns)) !== want) return false;
    return true;
  }, `the proxies' NOTRACK rules for the ${layout} layout`, 60_000);
}

function summary(lookups: readonly Lookup[]): string {
  const slow = lookups.filter((l) => l.ms >= 1000).length;
  const failed = lookups.filter((l) => !l.ok).length;
  return `${lookups.length} lookups, ${slow} took ≥ 1 s, ${failed} failed`;
}

async function race(c: LocalCluster, clients: readonly PodInfo[], m: Measured, layout: Layout): Promise<void> {
  const before = await conntrackStats(c);
  const lookups = await lookupLoops(clients.map((p) => netnsOfPod(c, p)), plan.workers, plan.raceSeconds, "target");
  const stats = statsDelta(await conntrackStats(c), before);
  m.add(layout, "race", lookups, stats);
  log(`${layout}: race: ${summary(lookups)}; conntrack insert_failed +${stats.insertFailed}, clash_resolve +${stats.clashResolve}, drop +${stats.drop}; load ${load()}`);
}

async function outsideNameQueries(c: LocalCluster, client: PodInfo, m: Measured, layout: Layout): Promise<void> {
  const before = await dnsRequestsTotal(c);
  let resolved = 0;
  for (let i = 0; i < plan.outsideLookups; i++) {
    const r = await inNetns(netnsOfPod(c, client), "getent", ["ahosts", OUTSIDE_NAME], 30_000);
    if (r.exitCode === 0) resolved++;
  }
  // The counters are scraped, not pushed: let the last answers be counted.
  await sleep(500);
  const perLookup = ((await dnsRequestsTotal(c)) - before) / plan.outsideLookups;
  m.queriesPerLookup.get(layout)?.push(perLookup);
  log(`${layout}: ${OUTSIDE_NAME}: ${perLookup} queries per lookup (${resolved}/${plan.outsideLookups} resolved)`);
}

type Disruption = "deleted" | "killed";

/** A lookup loop from the pods on the first node while one replica is deleted or SIGKILLed a few seconds in. */
async function disruption(c: LocalCluster, clients: readonly PodInfo[], m: Measured, layout: Layout, how: Disruption): Promise<void> {
  const node = c.nodes[0];
  if (node === undefined) throw new Error("no node");
  const local = clients.filter((p) => p.node === node.name);
  const selector = layout === "nodelocal" ? "k8s-app=signpost-dns-node-local" : "k8s-app=kube-dns";
  const ready = (await listPods(c, "kube-system", selector)).filter((p) => p.ready);
  const victim = ready.find((p) => p.node === node.name) ?? ready[0];
  if (victim === undefined) throw new Error(`no ready ${selector} replica`);
  const victimNode = c.nodes.find((n) => n.name === victim.node) ?? node;
  const loops = lookupLoops(local.map((p) => netnsOfPod(c, p)), plan.workers, plan.disruptionSeconds, "target");
  await sleep(5000);
  const at = Date.now();
  if (how === "deleted") {
    const r = await kubectlFor(c)("-n", "kube-system", "delete", "pod", victim.name, "--wait=false");
    if (r.exitCode !== 0) throw new Error(`delete: ${r.stderr}`);
  } else {
    const proc = victimNode.kubelet.containerProcess("kube-system", victim.name, "signpost-dns");
    if (proc === null) throw new Error(`no process for ${victim.name}`);
    proc.signal("SIGKILL");
  }
  const lookups = (await loops).filter((l) => l.startMs + l.ms >= at - 1000);
  m.add(layout, how, lookups, null);
  log(`${layout}: replica ${how} (${victim.name}) under a loop from ${local.length} pods: ${summary(lookups)}; load ${load()}`);
  const count = layout === "nodelocal" ? c.nodes.length : 2;
  await waitForReadyPods(c, "kube-system", selector, count, `the ${selector} replicas back`, 180_000);
  if (layout === "nodelocal") await useLayout(c, "nodelocal");
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = load();
  log(`plan: ${JSON.stringify(plan)}; load ${loadAtStart}; kernel ${release()}`);
  const c = await startClusterWithSignpost({ nodeLocalDns: true, readyTimeoutMs: 240_000 });
  const m = new MeasuredImpl();
  try {
    await applyManifest(c, `${namespaceWithServiceManifest(NS, "target")}---
apiVersion: apps/v1
kind: Deployment
metadata: { name: clients, namespace: ${NS} }
spec:
  replicas: ${plan.pods}
  selector: { matchLabels: { run: clients } }
  template:
    metadata: { labels: { run: clients } }
    spec:
      containers: [{ name: busybox, image: busybox, command: [sleep, "36000"] }]
`);
    const clients = await waitForReadyPods(c, NS, "run=clients", plan.pods, "the client pods", 180_000);
    log(`client pods: ${clients.map((p) => p.node).join(", ")}`);
    for (let round = 1; round <= plan.rounds; round++) {
      const order: Layout[] = round % 2 === 1 ? ["plain", "nodelocal"] : ["nodelocal", "plain"];
      for (const layout of order) {
        log(`round ${round}/${plan.rounds}: ${layout}`);
        await useLayout(c, layout);
        await race(c, clients, m, layout);
        const first = clients[0];
        if (first !== undefined) await outsideNameQueries(c, first, m, layout);
      }
    }
    for (const layout of ["plain", "nodelocal"] as const) {
      await useLayout(c, layout);
      for (const how of ["deleted", "killed"] as const) await disruption(c, clients, m, layout, how);
    }
  } finally {
    await c.stop();
  }
  const commit = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  const context = { plan, outsideName: OUTSIDE_NAME, load: { start: loadAtStart, end: load() }, kernel: release() };
  const file = writeSectionResults({
    section: "nodelocal",
    startedAt,
    finishedAt: new Date().toISOString(),
    versions: { signpost: commit, ...machineVersions(), "load average (1, 5, 15 min) at start": loadAtStart, "at end": context.load.end },
    figures: nodeLocalFigures(m, context),
    curves: nodeLocalCurves(m),
  });
  log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
