// The query runs of one round, interleaved. Every server of the round runs at once, pinned to
// core 0: the UDP ceiling, signpost-dns and CoreDNS. Only the one dnsperf is loading works; the
// others sit idle. Each kind's saturation run and fixed-rate run is cut into slices of
// plan.sliceSeconds that take turns (A B C, then C B A, ...), and a server's figure for the
// round is over all its slices. A slow spell of the machine then falls on every server alike,
// not on whichever one happened to run through it: here one daemon gave 42,851 and then 72,553
// q/s in two 10 s runs in a row, and in one bench round signpost's forwarded names ran at half
// their usual speed and all of CoreDNS's turn after them at two thirds, nothing else running.
import { cpuSecondsOf, type ContestantId } from "./contestants.ts";
import { dnsperf, percentile, rcodeSummary, type DnsperfResult } from "./dnsperf.ts";
import type { BenchPlan } from "./plan.ts";
import { QUERY_KINDS, type QueryKind } from "./query-files.ts";
import type { Tally } from "./tally.ts";
import { errorMessage } from "../../../pkg/errors/error-message.ts";

/** A server that answers in the round: a contestant, or the ceiling. */
export interface Answerer {
  readonly id: ContestantId | "ceiling";
  readonly port: number;
  /** Whose CPU time to read; null for the ceiling. */
  readonly pid: number | null;
  /** The server's own command line, recorded with the figures. */
  readonly command: string;
}

export interface InterleavedContext {
  readonly plan: BenchPlan;
  readonly queryFiles: Readonly<Record<QueryKind, string>>;
  readonly tally: Tally;
  readonly log: (message: string) => void;
}

/** How many slices a run of `seconds` is cut into, each about `sliceSeconds` long. */
export function sliceCount(seconds: number, sliceSeconds: number): number {
  return Math.max(1, Math.round(seconds / sliceSeconds));
}

/** The turns of slice `slice` (from 0): forwards in even slices, backwards in odd ones, so no server always goes first. */
export function turnOrder<T>(servers: readonly T[], slice: number): T[] {
  return slice % 2 === 0 ? [...servers] : [...servers].reverse();
}

/** A server's slices taken together, as if one run (latencies over every slice). */
export type MergedRuns = Omit<DnsperfResult, "command">;

/** One server's slices as a single run: queries/s is every completed query over every slice's run time. */
export function mergeRuns(runs: readonly DnsperfResult[]): MergedRuns {
  let sent = 0;
  let completed = 0;
  let lost = 0;
  let runSeconds = 0;
  const rcodes: Record<string, number> = {};
  for (const run of runs) {
    sent += run.sent;
    completed += run.completed;
    lost += run.lost;
    runSeconds += run.runSeconds;
    for (const [code, n] of Object.entries(run.rcodes)) rcodes[code] = (rcodes[code] ?? 0) + n;
  }
  const latencies = new Float64Array(runs.reduce((n, r) => n + r.latencies.length, 0));
  let at = 0;
  for (const run of runs) {
    latencies.set(run.latencies, at);
    at += run.latencies.length;
  }
  return { qps: runSeconds > 0 ? completed / runSeconds : 0, sent, completed, lost, runSeconds, rcodes, latencies: latencies.sort() };
}

interface SlicedRun {
  readonly merged: MergedRuns;
  readonly cpuSeconds: number;
  readonly commands: readonly string[];
}

/** One kind's load on each server: dnsperf's query file, for how long, at a fixed rate or (without one) as fast as it answers. */
interface SliceLoad {
  readonly file: string;
  readonly seconds: number;
  readonly rate?: number;
}

/**
 * Runs the load against each server in slices taking turns; a server whose dnsperf fails is
 * reported through `failed` and gets no further turns.
 */
async function sliced(servers: readonly Answerer[], load: SliceLoad, ctx: InterleavedContext, failed: (server: Answerer, message: string) => void): Promise<Map<Answerer, SlicedRun>> {
  const { file, seconds, rate } = load;
  const slices = sliceCount(seconds, ctx.plan.sliceSeconds);
  const runs = new Map<Answerer, { results: DnsperfResult[]; cpu: number }>(servers.map((s) => [s, { results: [], cpu: 0 }]));
  for (let slice = 0; slice < slices; slice++) {
    for (const server of turnOrder([...runs.keys()], slice)) {
      const acc = runs.get(server);
      if (acc === undefined) continue;
      try {
        const cpu0 = server.pid === null ? 0 : cpuSecondsOf(server.pid);
        const result = await dnsperf({ port: server.port, file, seconds: seconds / slices, ...(rate === undefined ? {} : { rate }), latencies: rate !== undefined });
        acc.cpu += server.pid === null ? 0 : cpuSecondsOf(server.pid) - cpu0;
        acc.results.push(result);
      } catch (err) {
        runs.delete(server);
        failed(server, errorMessage(err));
      }
    }
  }
  return new Map([...runs].map(([server, acc]) => [server, { merged: mergeRuns(acc.results), cpuSeconds: acc.cpu, commands: [...new Set(acc.results.map((r) => r.command))] }]));
}

/**
 * Every kind of query, in turn: an unrecorded warm-up per server, then the fixed-rate slices,
 * then the saturation slices; the ceiling takes its turns in both, giving the machine's own
 * latency at the fixed rate and its most queries/s. The fixed rate goes first so that its
 * latencies are all of a warm cache: the forwarded names carry TTL 30 (upstream.ts, and
 * CoreDNS's cache 30 caps them there), and the whole kind takes longer than 30 s, so the cached
 * answers expire during the saturation slices, where each server refetches them alike. Records
 * each server's figures for the round in the tally; a server that fails is reported through
 * `failed` and left out of the rest.
 */
export async function runInterleavedQueries(servers: readonly Answerer[], ctx: InterleavedContext, failed: (server: Answerer, message: string) => void): Promise<void> {
  const { plan, tally, log } = ctx;
  let live = [...servers];
  const drop = (server: Answerer, message: string): void => {
    live = live.filter((s) => s !== server);
    failed(server, message);
  };
  for (const kind of QUERY_KINDS) {
    const file = ctx.queryFiles[kind];
    for (const server of live) {
      try {
        await dnsperf({ port: server.port, file, seconds: plan.warmSeconds, latencies: false });
      } catch (err) {
        drop(server, errorMessage(err));
      }
    }
    const fixed = await sliced(live, { file, seconds: plan.fixedSeconds, rate: plan.rate }, ctx, drop);
    const saturation = await sliced(live, { file, seconds: plan.saturationSeconds }, ctx, drop);
    for (const [server, run] of saturation) {
      const { merged } = run;
      for (const command of [server.command, ...run.commands]) tally.command(`${kind}:qps`, command);
      tally.add(server.id, `${kind}:qps`, merged.qps);
      if (server.id === "ceiling") {
        log(`UDP ceiling ${kind}: ${merged.qps.toFixed(0)} q/s (lost ${merged.lost})`);
        continue;
      }
      tally.add(server.id, `${kind}:qps-per-cpu`, merged.completed / Math.max(run.cpuSeconds, 0.01));
      tally.add(server.id, `${kind}:cpu`, run.cpuSeconds / merged.runSeconds);
      tally.rcodes(server.id, kind, merged.rcodes);
      tally.lost(server.id, `${kind}:saturation`, merged.lost, merged.sent);
      log(`${server.id} ${kind}: ${merged.qps.toFixed(0)} q/s at saturation (server CPU ${(run.cpuSeconds / merged.runSeconds).toFixed(2)} of its core, lost ${merged.lost}); answers ${rcodeSummary(merged.rcodes)}`);
    }
    for (const [server, run] of fixed) {
      const { merged } = run;
      for (const command of [server.command, ...run.commands]) tally.command(`${kind}:latency`, command);
      const p50 = percentile(merged.latencies, 0.5) * 1000;
      const p99 = percentile(merged.latencies, 0.99) * 1000;
      tally.add(server.id, `${kind}:p50`, p50);
      tally.add(server.id, `${kind}:p99`, p99);
      if (server.id === "ceiling") {
        log(`UDP ceiling ${kind}: at ${plan.rate} q/s p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, lost ${merged.lost}`);
        continue;
      }
      tally.add(server.id, `${kind}:achieved`, merged.qps);
      tally.latencies(server.id, kind, merged.latencies);
      tally.lost(server.id, `${kind}:fixed`, merged.lost, merged.sent);
      log(`${server.id} ${kind}: at ${plan.rate} q/s p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, lost ${merged.lost}`);
    }
  }
}
