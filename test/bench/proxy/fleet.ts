// The API-server load point: many proxies watching one API server, as every node of a cluster
// runs one. N nodes (network namespaces without pods) each start the contestant at once; the
// figures are the time until every one of them reports healthy (its first sync done), each
// instance's resident memory once synced, the watch requests the API server holds for them, and
// during a churn window the API server's CPU and each instance's. The API server is found by the
// port it listens on in the bench's namespace, so no other process on the machine is counted.
// An instance that exits is started again after the kubelet's crash-loop back-off, as a
// DaemonSet's pod would be; the exits are counted and the first one's output kept, so a
// contestant that crashes now and then is measured, and its exits are a figure of their own.
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
  /** Exits of any instance over the whole fleet run, each started again after the back-off. */
  readonly exits: number;
  /** The first exit's description and output (a Go panic with where it panicked), when one exited. */
  readonly firstExit: string | null;
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

/** The kubelet's crash-loop back-off before the nth restart (1-based): 10 s, doubling, at most 5 min. */
export function restartDelayMs(restart: number): number {
  return Math.min(10_000 * 2 ** (restart - 1), 300_000);
}

/** One node's contestant, started again after the back-off whenever it exits. */
export class FleetInstance {
  #daemon: RunningDaemon | null = null;
  #restartAt: number | null = null;
  exits = 0;
  firstExit: string | null = null;
  readonly node: BenchNode;
  readonly #start: () => Promise<RunningDaemon>;

  constructor(node: BenchNode, start: () => Promise<RunningDaemon>) {
    this.node = node;
    this.#start = start;
  }

  async launch(): Promise<void> {
    this.#daemon = await this.#start();
  }

  /** The running daemon's pid, or null while it waits out its back-off. */
  get pid(): number | null {
    return this.#daemon === null || this.#daemon.exited ? null : this.#daemon.pid;
  }

  /** Notes an exit and schedules the restart; restarts once the back-off has passed. */
  async tend(now: number): Promise<void> {
    const d = this.#daemon;
    if (d === null || !d.exited) return;
    if (this.#restartAt === null) {
      this.exits++;
      this.firstExit ??= `${d.exitDescription()}: ${d.tail()}`;
      this.#restartAt = now + restartDelayMs(this.exits);
    } else if (now >= this.#restartAt) {
      this.#restartAt = null;
      this.#daemon = await this.#start();
    }
  }

  async stop(): Promise<void> {
    await this.#daemon?.stop();
  }
}

async function tendAll(instances: readonly FleetInstance[]): Promise<void> {
  for (const i of instances) await i.tend(performance.now());
}

/** Until every instance answers healthy in one round of polls, tending crashed ones meanwhile. */
async function untilAllHealthy(instances: readonly FleetInstance[], deadline: number, what: string): Promise<void> {
  for (;;) {
    await tendAll(instances);
    const answers = await Promise.all(instances.map(async (i) => i.pid !== null && (await healthy(i.node))));
    const unhealthy = answers.filter((ok) => !ok).length;
    if (unhealthy === 0) return;
    if (performance.now() > deadline) throw new Error(`${unhealthy} of ${instances.length} instances not healthy ${what}`);
    await sleep(100);
  }
}

export async function measureFleet(contestant: Contestant, kubeconfig: string, objects: ClusterObjects, api: KubeRest, apiPid: number, o: FleetOptions): Promise<FleetResult> {
  const instances: FleetInstance[] = [];
  let tending: Promise<void> | null = null;
  let done = false;
  try {
    for (let i = 0; i < o.instances; i++) {
      const node = await BenchNode.create({ pods: false });
      instances.push(new FleetInstance(node, async () => (await startDaemon(contestant, node, kubeconfig)).daemon));
    }
    const watchesBefore = watchRequests(await api.text("/metrics"));
    const t0 = performance.now();
    for (const i of instances) await i.launch();
    await untilAllHealthy(instances, t0 + o.timeoutMs, `after ${o.timeoutMs / 1000} s`);
    const allSyncedSeconds = (performance.now() - t0) / 1000;
    log(`${contestant.name}: ${o.instances} instances healthy after ${allSyncedSeconds.toFixed(1)} s`);
    await sleep(5000);
    // A crash after the fleet was healthy: wait for its restart, so every sample is of a synced instance.
    await untilAllHealthy(instances, performance.now() + o.timeoutMs, "again after a restart");
    const running = instances.flatMap((instance) => (instance.pid === null ? [] : [{ instance, pid: instance.pid }]));
    const rssMiB = running.map(({ pid }) => memory(pid).rssMiB);
    const watches = watchRequests(await api.text("/metrics")) - watchesBefore;

    // Restarts go on during churn; an instance restarted within it has no CPU figure for it.
    tending = (async () => {
      while (!done) {
        await tendAll(instances);
        await sleep(200);
      }
    })();
    const api0 = cpuTimes(apiPid);
    const churned = running.map((r) => ({ ...r, before: cpuTimes(r.pid) }));
    const start = performance.now();
    const sent = await changesOnSchedule(objects, { seconds: o.churnSeconds, perSecond: o.perSecond, seed: o.instances });
    const seconds = (performance.now() - start) / 1000;
    const api1 = cpuTimes(apiPid);
    const instanceCpuSeconds = churned.flatMap(({ instance, pid, before }) => (instance.pid === pid ? [cpuSecondsBetween(before, cpuTimes(pid))] : []));
    await sent.failed;
    const exits = instances.reduce((n, i) => n + i.exits, 0);
    const firstExit = instances.find((i) => i.firstExit !== null)?.firstExit ?? null;
    if (exits > 0) log(`${contestant.name} fleet: ${exits} exits; the first: ${firstExit ?? ""}`);
    return { instances: o.instances, allSyncedSeconds, rssMiB, watches, apiServerCpu: (api1.own - api0.own) / seconds, instanceCpuSeconds, exits, firstExit };
  } finally {
    done = true;
    await tending;
    await Promise.all(instances.map((i) => i.stop()));
    for (const i of instances) await i.node.destroy();
  }
}
