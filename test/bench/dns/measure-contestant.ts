// One contestant's turn in one round: start it alone (the other is stopped), time it to ready,
// read its memory after the sync, measure propagation, then for each kind of query a short
// unrecorded warm-up, a saturation run and a fixed-rate run; finally its peak memory; stop it.
import type { CoreV1Api } from "@kubernetes/client-node";
import type { ApiClient } from "../../../pkg/kube/api-client.ts";
import { announceCommand } from "../results.ts";
import { cpuSecondsOf, memoryOf, startContestant, type ContestantId, type ContestantSetup } from "./contestants.ts";
import { dnsperf, percentile, rcodeSummary } from "./dnsperf.ts";
import type { BenchPlan } from "./plan.ts";
import { measurePropagation } from "./propagation.ts";
import { QUERY_KINDS, type QueryKind } from "./query-files.ts";
import type { Tally } from "./tally.ts";

export interface TurnContext {
  readonly plan: BenchPlan;
  readonly setup: ContestantSetup;
  readonly queryFiles: Readonly<Record<QueryKind, string>>;
  readonly core: CoreV1Api;
  readonly api: ApiClient;
  readonly tally: Tally;
  readonly round: number;
  readonly log: (message: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureTurn(id: ContestantId, ctx: TurnContext): Promise<void> {
  const { plan, tally, log } = ctx;
  const server = await startContestant(id, ctx.setup, plan.readyTimeoutMs);
  announceCommand(server.command);
  try {
    for (const key of ["mem:rss", "mem:hwm", "mem:peak", "ready", "propagation"]) tally.command(key, server.command);
    tally.add(id, "ready", server.readySeconds);
    await sleep(2000);
    const memory = memoryOf(server.pid);
    tally.add(id, "mem:rss", memory.rssMiB);
    tally.add(id, "mem:hwm", memory.hwmMiB);
    log(`${id}: ready in ${server.readySeconds.toFixed(2)} s; VmRSS ${memory.rssMiB.toFixed(1)} MiB, VmHWM ${memory.hwmMiB.toFixed(1)} MiB`);

    const propagation = await measurePropagation({
      core: ctx.core,
      api: ctx.api,
      zone: ctx.setup.zone,
      dnsPort: server.dnsPort,
      prefix: `p${ctx.round}-${id === "signpost" ? "s" : "c"}`,
      samples: plan.propagationPerRound,
    });
    for (const ms of propagation.ms) tally.add(id, "propagation", ms);
    for (const ms of propagation.floorMs) tally.add("floor", "propagation", ms);
    if (propagation.timedOut > 0) tally.add(id, "propagation:timedout", propagation.timedOut);
    log(`${id}: propagation ${propagation.ms.join(", ")} ms${propagation.timedOut > 0 ? `; ${propagation.timedOut} never resolved within 30 s` : ""}; the bare watch saw the same Services after ${propagation.floorMs.join(", ")} ms`);

    for (const kind of QUERY_KINDS) {
      const file = ctx.queryFiles[kind];
      await dnsperf({ port: server.dnsPort, file, seconds: plan.warmSeconds, latencies: false });
      const cpu0 = cpuSecondsOf(server.pid);
      const saturation = await dnsperf({ port: server.dnsPort, file, seconds: plan.saturationSeconds, latencies: false });
      const cpu = cpuSecondsOf(server.pid) - cpu0;
      tally.command(`${kind}:qps`, saturation.command);
      tally.add(id, `${kind}:qps`, saturation.qps);
      tally.add(id, `${kind}:qps-per-cpu`, saturation.completed / Math.max(cpu, 0.01));
      tally.add(id, `${kind}:cpu`, cpu / plan.saturationSeconds);
      tally.rcodes(id, kind, saturation.rcodes);
      tally.lost(id, `${kind}:saturation`, saturation.lost, saturation.sent);
      const fixed = await dnsperf({ port: server.dnsPort, file, seconds: plan.fixedSeconds, rate: plan.rate, latencies: true });
      tally.command(`${kind}:latency`, fixed.command);
      tally.add(id, `${kind}:p50`, percentile(fixed.latencies, 0.5) * 1000);
      tally.add(id, `${kind}:p99`, percentile(fixed.latencies, 0.99) * 1000);
      tally.add(id, `${kind}:achieved`, fixed.qps);
      tally.latencies(id, kind, fixed.latencies);
      tally.lost(id, `${kind}:fixed`, fixed.lost, fixed.sent);
      log(
        `${id} ${kind}: ${saturation.qps.toFixed(0)} q/s at saturation (server CPU ${(cpu / plan.saturationSeconds).toFixed(2)} of its core, lost ${saturation.lost}); ` +
          `at ${plan.rate} q/s p50 ${(percentile(fixed.latencies, 0.5) * 1000).toFixed(3)} ms, p99 ${(percentile(fixed.latencies, 0.99) * 1000).toFixed(3)} ms, lost ${fixed.lost}; ` +
          `answers ${rcodeSummary(saturation.rcodes)}`,
      );
    }
    const peak = memoryOf(server.pid);
    tally.add(id, "mem:peak", peak.hwmMiB);
    log(`${id}: after the query runs VmRSS ${peak.rssMiB.toFixed(1)} MiB, VmHWM ${peak.hwmMiB.toFixed(1)} MiB`);
  } finally {
    await server.stop();
  }
}
