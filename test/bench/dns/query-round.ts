// The second half of a round: start every server at once (the UDP ceiling when it was built,
// and each contestant not yet failed), wait for each contestant's /ready, run the interleaved
// query slices, read each contestant's peak memory, stop them all.
import { announceCommand } from "../results.ts";
import { memoryOf, startContestant, type ContestantId, type ContestantSetup, type RunningContestant } from "./contestants.ts";
import { runInterleavedQueries, type Answerer, type InterleavedContext } from "./interleaved-queries.ts";
import { startCeiling, type RunningCeiling } from "./udp-ceiling.ts";
import { errorMessage } from "../../../pkg/errors/error-message.ts";

export interface QueryRoundContext extends InterleavedContext {
  readonly setup: ContestantSetup;
  readonly contestants: readonly ContestantId[];
  /** The udp-ceiling binary, or "" when it could not be built. */
  readonly ceilingBinary: string;
  readonly failed: (id: ContestantId, message: string) => void;
}

export async function measureQueryRound(ctx: QueryRoundContext): Promise<void> {
  const running: RunningContestant[] = [];
  let ceiling: RunningCeiling | null = null;
  try {
    if (ctx.ceilingBinary !== "") ceiling = await startCeiling(ctx.ceilingBinary, ctx.setup.dir);
    for (const id of ctx.contestants) {
      try {
        const server = await startContestant(id, ctx.setup, ctx.plan.readyTimeoutMs);
        announceCommand(server.command);
        running.push(server);
      } catch (err) {
        ctx.failed(id, errorMessage(err));
      }
    }
    const answerers: Answerer[] = [
      ...(ceiling === null ? [] : [{ id: "ceiling" as const, port: ceiling.port, pid: null, command: ceiling.command }]),
      ...running.map((s) => ({ id: s.id, port: s.dnsPort, pid: s.pid, command: s.command })),
    ];
    await runInterleavedQueries(answerers, ctx, (server, message) => {
      if (server.id === "ceiling") ctx.log(`the UDP ceiling failed: ${message}`);
      else ctx.failed(server.id, message);
    });
    for (const server of running) {
      if (!server.process.running) continue;
      const peak = memoryOf(server.pid);
      ctx.tally.add(server.id, "mem:peak", peak.hwmMiB);
      ctx.log(`${server.id}: after the query runs VmRSS ${peak.rssMiB.toFixed(1)} MiB, VmHWM ${peak.hwmMiB.toFixed(1)} MiB`);
    }
  } finally {
    await Promise.all([...running.map((s) => s.stop()), ...(ceiling === null ? [] : [ceiling.process.kill()])]);
  }
}
