// The API-server load point: many proxies watching one API server, as every node of a cluster
// runs one. N nodes (network namespaces without pods) each start the contestant at once; the
// figures are the time until every one of them reports healthy (its first sync done), each
// instance's resident memory once synced, the watch requests the API server holds for them, and
// during a churn window the API server's CPU and each instance's. The API server is found by the
// port it listens on in the bench's namespace, so no other process on the machine is counted.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import type { KubeRest } from "../kube-rest.ts";
import { BenchNode } from "./bench-node.ts";
import type { ClusterObjects } from "./cluster-objects.ts";
import { HEALTHZ_PORT, type Contestant, type RunningDaemon, startDaemon } from "./contestants.ts";
import { cpuSecondsBetween, cpuTimes, memory } from "./process-stats.ts";
import { log } from "./sampling.ts";
import { changesOnSchedule } from "./churn.ts";

export interface FleetResult {
  readonly instances: number;
  /** From starting the first instance to the last one's healthz answering 200. */
  readonly allSyncedSeconds: number;
  /** VmRSS of each instance, 5 s after all synced. */
  readonly rssMiB: number[];
  /** apiserver_longrunning_requests{verb="WATCH"} added by the fleet. */
  readonly watches: number;
  /** The API server's CPU seconds per second of the churn window. */
  readonly apiServerCpu: number;
  /** Each instance's CPU seconds (own and its children's: iptables-restore) over the churn window. */
  readonly instanceCpuSeconds: number[];
}

export interface FleetOptions {
  readonly instances: number;
  readonly churnSeconds: number;
  readonly perSecond: number;
  readonly timeoutMs: number;
}

/** The pid listening on the API server's port, in this (the bench's own) network namespace. */
export async function apiServerPid(apiServerUrl: string): Promise<number> {
  const port = new URL(apiServerUrl).port;
  const out = (await execa("ss", ["-ltnpH", `sport = :${port}`])).stdout;
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (pid === undefined) throw new Error(`no process listens on port ${port}: ${out}`);
  return Number(pid);
}

/** Watch requests the API server holds, from its own metrics. */
export function watchRequests(metrics: string): number {
  let sum = 0;
  for (const line of metrics.split("\n")) {
    if (line.startsWith("apiserver_longrunning_requests{") && line.includes('verb="WATCH"')) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

async function healthy(node: BenchNode): Promise<boolean> {
  try {
    const r = await fetch(`http://${node.linkAddress}:${HEALTHZ_PORT}/healthz`, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

export async function measureFleet(contestant: Contestant, kubeconfig: string, objects: ClusterObjects, api: KubeRest, apiPid: number, o: FleetOptions): Promise<FleetResult> {
  const nodes: BenchNode[] = [];
  const daemons: RunningDaemon[] = [];
  try {
    for (let i = 0; i < o.instances; i++) nodes.push(await BenchNode.create({ pods: false }));
    const watchesBefore = watchRequests(await api.text("/metrics"));
    const t0 = performance.now();
    for (const node of nodes) daemons.push((await startDaemon(contestant, node, kubeconfig)).daemon);
    const pending = new Set(nodes.keys());
    while (pending.size > 0) {
      if (performance.now() - t0 > o.timeoutMs) throw new Error(`${pending.size} of ${o.instances} instances not healthy after ${o.timeoutMs / 1000} s`);
      const dead = daemons.find((d) => d.exited);
      if (dead !== undefined) throw new Error(`an instance ${dead.exitDescription()}: ${dead.tail()}`);
      for (const i of [...pending]) if (await healthy(nodes[i] as BenchNode)) pending.delete(i);
      if (pending.size > 0) await sleep(100);
    }
    const allSyncedSeconds = (performance.now() - t0) / 1000;
    log(`${contestant.name}: ${o.instances} instances healthy after ${allSyncedSeconds.toFixed(1)} s`);
    await sleep(5000);
    const gone = daemons.find((d) => d.exited);
    if (gone !== undefined) throw new Error(`an instance ${gone.exitDescription()} after the fleet was healthy: ${gone.tail()}`);
    const rssMiB = daemons.map((d) => memory(d.pid).rssMiB);
    const watches = watchRequests(await api.text("/metrics")) - watchesBefore;

    const api0 = cpuTimes(apiPid);
    const cpu0 = daemons.map((d) => cpuTimes(d.pid));
    const start = performance.now();
    const sent = await changesOnSchedule(objects, { seconds: o.churnSeconds, perSecond: o.perSecond, seed: o.instances });
    const seconds = (performance.now() - start) / 1000;
    const api1 = cpuTimes(apiPid);
    const instanceCpuSeconds = daemons.map((d, i) => cpuSecondsBetween(cpu0[i] ?? { own: 0, children: 0 }, cpuTimes(d.pid)));
    await sent.failed;
    return { instances: o.instances, allSyncedSeconds, rssMiB, watches, apiServerCpu: (api1.own - api0.own) / seconds, instanceCpuSeconds };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    for (const node of nodes) await node.destroy();
  }
}
