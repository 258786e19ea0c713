// Under churn: 10 endpoint changes a second (each to a random scale Service, stamped with its
// trigger time, sent on schedule whether or not the daemon keeps up) for a fixed time. Measures
// the CPU time the daemon used in that window (its own, and its children's: iptables-restore or
// nft), its peak RSS in the window (VmHWM, reset at the start), and afterwards the rule set's
// size in the kernel.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchNode } from "./bench-node.ts";
import type { ClusterObjects } from "./cluster-objects.ts";
import type { Contestant, RunningDaemon } from "./contestants.ts";
import { ruleSetSize, type RuleSetSize } from "./kernel-rules.ts";
import { cpuTimes, memory, resetPeakMemory } from "./process-stats.ts";
import { seededRandom } from "../../support/seeded-random.ts";

export interface ChurnResult {
  readonly cpuOwnSeconds: number;
  readonly cpuWithChildrenSeconds: number;
  readonly peakRssMiB: number;
  readonly changesSent: number;
  readonly failedChanges: number;
  readonly rules: RuleSetSize;
}

export async function churn(contestant: Contestant, daemon: RunningDaemon, node: BenchNode, objects: ClusterObjects, o: { seconds: number; perSecond: number; seed: number }): Promise<ChurnResult> {
  const random = seededRandom(o.seed);
  resetPeakMemory(daemon.pid);
  const cpu0 = cpuTimes(daemon.pid);
  const start = performance.now();
  const total = o.seconds * o.perSecond;
  const inFlight: Promise<void>[] = [];
  let failed = 0;
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / o.perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const service = Math.floor(random() * objects.services);
    inFlight.push(objects.changeOneEndpoint(service).then(() => undefined, () => void failed++));
  }
  const end = start + o.seconds * 1000;
  if (end > performance.now()) await sleep(end - performance.now());
  const cpu1 = cpuTimes(daemon.pid);
  const { peakMiB } = memory(daemon.pid);
  await Promise.all(inFlight);
  if (daemon.exited) throw new Error(`${contestant.name} ${daemon.exitDescription()} during churn: ${daemon.tail()}`);
  // Let the last changes be programmed before the rule set is measured.
  await sleep(3000);
  const rules = await ruleSetSize(node, contestant.backend);
  return {
    cpuOwnSeconds: cpu1.own - cpu0.own,
    cpuWithChildrenSeconds: cpu1.own + cpu1.children - (cpu0.own + cpu0.children),
    peakRssMiB: peakMiB,
    changesSent: total,
    failedChanges: failed,
    rules,
  };
}
