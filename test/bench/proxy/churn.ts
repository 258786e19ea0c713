// Under churn: 10 endpoint changes a second (each to a random scale Service, stamped with its
// trigger time, sent on schedule whether or not the daemon keeps up) for a fixed time. Measures
// the CPU time the daemon used in that window (its own, and its children's: iptables-restore or
// nft), its peak RSS in the window (VmHWM, reset at the start), and afterwards the rule set's
// size in the kernel, how many syncs it ran and the mean programming latency of the changes (from
// both proxies' histograms: what the CPU bought).
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchNode } from "./bench-node.ts";
import type { ClusterObjects } from "./cluster-objects.ts";
import type { Contestant, RunningDaemon } from "./contestants.ts";
import { ruleSetSize, type RuleSetSize } from "./kernel-rules.ts";
import { cpuSecondsBetween, cpuTimes, memory, resetPeakMemory } from "./process-stats.ts";
import { scrapeProgramming, SYNC_METRIC } from "./programming-metric.ts";
import { seededRandom } from "../../support/seeded-random.ts";

export interface ChurnResult {
  readonly cpuOwnSeconds: number;
  readonly cpuWithChildrenSeconds: number;
  readonly peakRssMiB: number;
  readonly changesSent: number;
  readonly failedChanges: number;
  readonly rules: RuleSetSize;
  /** Syncs from the start of the window until the rules were measured (absent in older results). */
  readonly syncs?: number;
  /** Mean network programming latency of the changes observed in that time, in seconds. */
  readonly meanProgrammingSeconds?: number;
}

/**
 * Sends `perSecond` endpoint changes a second for `seconds`, each to a random scale Service, on
 * schedule whether or not the daemons keep up, and returns when the window ends; `failed`
 * resolves once every change is answered, to how many the API server refused.
 */
export async function changesOnSchedule(objects: ClusterObjects, o: { seconds: number; perSecond: number; seed: number }): Promise<{ failed: Promise<number> }> {
  const random = seededRandom(o.seed);
  const start = performance.now();
  const inFlight: Promise<boolean>[] = [];
  for (let k = 0; k < o.seconds * o.perSecond; k++) {
    const wait = start + (k * 1000) / o.perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(objects.changeOneEndpoint(Math.floor(random() * objects.services)).then(() => true, () => false));
  }
  const end = start + o.seconds * 1000;
  if (end > performance.now()) await sleep(end - performance.now());
  return { failed: Promise.all(inFlight).then((ok) => ok.filter((x) => !x).length) };
}

export async function churn(contestant: Contestant, daemon: RunningDaemon, node: BenchNode, objects: ClusterObjects, o: { seconds: number; perSecond: number; seed: number }): Promise<ChurnResult> {
  const [programmed0, syncs0] = await Promise.all([scrapeProgramming(daemon.metricsUrl), scrapeProgramming(daemon.metricsUrl, SYNC_METRIC)]);
  resetPeakMemory(daemon.pid);
  const cpu0 = cpuTimes(daemon.pid);
  const sent = await changesOnSchedule(objects, o);
  const cpu1 = cpuTimes(daemon.pid);
  const { peakMiB } = memory(daemon.pid);
  const failed = await sent.failed;
  if (daemon.exited) throw new Error(`${contestant.name} ${daemon.exitDescription()} during churn: ${daemon.tail()}`);
  // Let the last changes be programmed before the rule set is measured.
  await sleep(3000);
  const [programmed1, syncs1] = await Promise.all([scrapeProgramming(daemon.metricsUrl), scrapeProgramming(daemon.metricsUrl, SYNC_METRIC)]);
  const rules = await ruleSetSize(node, contestant.backend);
  const observed = programmed1.count - programmed0.count;
  return {
    cpuOwnSeconds: cpu1.own - cpu0.own,
    cpuWithChildrenSeconds: cpuSecondsBetween(cpu0, cpu1),
    peakRssMiB: peakMiB,
    changesSent: o.seconds * o.perSecond,
    failedChanges: failed,
    rules,
    syncs: syncs1.count - syncs0.count,
    ...(observed > 0 ? { meanProgrammingSeconds: (programmed1.sum - programmed0.sum) / observed } : {}),
  };
}
