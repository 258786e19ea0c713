// Network programming latency, two ways, in one block of events alternating between them. Before
// each event the cluster is left quiet for a random pause (the same seeded sequence for every
// contestant) longer than both proxies' minSyncPeriod (1 s), so each change is programmed on its
// own and measures the proxy rather than its rate limiter (churn measures the proxies under load):
// - "change": one endpoint of a random scale Service is replaced, the slice stamped with the
//   trigger time; the sample is the network_programming_duration_seconds observation the daemon
//   adds for it (the difference of the histogram's sums when its count grew by exactly one);
// - "probe": a new Service and its EndpointSlice (pointing at the echo backend) are created; the
//   sample is the time from the create request to the first TCP connection from the client pod
//   to its ClusterIP that succeeds.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { BACKEND_POD_IP, type BenchNode } from "./bench-node.ts";
import type { ClusterObjects } from "./cluster-objects.ts";
import type { RunningDaemon } from "./contestants.ts";
import { scrapeProgramming } from "./programming-metric.ts";
import { seededRandom } from "../../support/seeded-random.ts";

export interface LatencyBlock {
  /** Seconds, one per "change" event whose observation could be isolated. */
  readonly metricSeconds: number[];
  /** Seconds, one per "probe" event that connected. */
  readonly probeSeconds: number[];
  /** Events whose sample could not be taken, with why. */
  readonly problems: string[];
}

export interface LatencyOptions {
  readonly events: number;
  readonly pauseMs: readonly [number, number];
  readonly seed: number;
  readonly timeoutMs: number;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

async function waitForCountAbove(daemon: RunningDaemon, count: number, timeoutMs: number): Promise<{ sum: number; count: number } | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const now = await scrapeProgramming(daemon.metricsUrl);
    if (now.count > count) return now;
    if (daemon.exited) throw new Error(`the daemon ${daemon.exitDescription()}: ${daemon.tail()}`);
    // The sums are exact whenever they are read; a gentle poll keeps the scrapes from loading the daemon.
    await sleep(100);
  }
  return null;
}

export async function programmingLatency(daemon: RunningDaemon, node: BenchNode, objects: ClusterObjects, o: LatencyOptions): Promise<LatencyBlock> {
  const random = seededRandom(o.seed);
  const block: LatencyBlock = { metricSeconds: [], probeSeconds: [], problems: [] };
  for (let e = 0; e < o.events; e++) {
    const [minPause, maxPause] = o.pauseMs;
    await sleep(minPause + random() * (maxPause - minPause));
    if (e % 2 === 0) {
      const service = Math.floor(random() * objects.services);
      const before = await scrapeProgramming(daemon.metricsUrl);
      await objects.changeOneEndpoint(service);
      const after = await waitForCountAbove(daemon, before.count, o.timeoutMs);
      if (after === null) block.problems.push(`change of svc-${service}: no observation within ${o.timeoutMs / 1000} s`);
      else if (after.count - before.count !== 1) block.problems.push(`change of svc-${service}: ${after.count - before.count} observations at once, not isolated`);
      else block.metricSeconds.push(after.sum - before.sum);
    } else {
      const t0 = wallNow();
      const probe = await objects.createProbeService(BACKEND_POD_IP);
      const r = await node.firstConnection(probe.clusterIP, 80, o.timeoutMs);
      if (r.okAtMs === undefined) block.problems.push(`${probe.name} (${probe.clusterIP}): ${r.error ?? "no connection"} (${await node.diagnose(probe.clusterIP)})`);
      else block.probeSeconds.push((r.okAtMs - t0) / 1000);
    }
  }
  return block;
}
