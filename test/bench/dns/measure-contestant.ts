// One contestant's turn alone in one round: start it (the other is stopped), time it to ready,
// read its memory after the sync, measure propagation, stop it. The query runs come after, with
// every server running and taking turns (interleaved-queries.ts).
import type { CoreV1Api } from "@kubernetes/client-node";
import type { ApiClient } from "../../../pkg/kube/api-client.ts";
import { announceCommand } from "../results.ts";
import { heapSettleOf, memoryOf, startContestant, type ContestantId, type ContestantSetup } from "./contestants.ts";
import type { BenchPlan } from "./plan.ts";
import { measurePropagation } from "./propagation.ts";
import type { Tally } from "./tally.ts";

export interface TurnContext {
  readonly plan: BenchPlan;
  readonly setup: ContestantSetup;
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
    const settle = id === "signpost" ? heapSettleOf(server) : null;
    if (settle !== null) {
      tally.add(id, "settle:pause", settle.pauseMs);
      tally.add(id, "settle:after-ready", settle.afterReadyMs);
      log(`${id}: heap settled in ${settle.pauseMs} ms, ${settle.afterReadyMs} ms after /ready`);
    }

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
  } finally {
    await server.stop();
  }
}
