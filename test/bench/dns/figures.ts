// Turns the tally into the report's figures and curves: per kind of query the saturation rate,
// the rate per CPU second, p50 and p99 at the fixed rate; memory, time to ready and propagation
// at the scale point. Notes carry what a reader needs to trust a number: the answer mix of each
// contestant (they must agree, or one is answering something else), lost queries, failures.
import type { Curve, Figure } from "../results.ts";
import type { ContestantId } from "./contestants.ts";
import { cdfPoints, rcodeSummary } from "./dnsperf.ts";
import { sliceCount } from "./interleaved-queries.ts";
import type { BenchPlan } from "./plan.ts";
import { KIND_GROUP, QUERY_KINDS, type QueryKind } from "./query-files.ts";
import type { Tally } from "./tally.ts";

export interface FigureContext {
  readonly plan: BenchPlan;
  readonly tally: Tally;
  readonly opponentName: string;
  /** Contestants that ran in this section (CoreDNS is absent when it could not be built). */
  readonly names: Readonly<Record<ContestantId, string>>;
}

function failureNote(ctx: FigureContext): string {
  return [...ctx.tally.failures].map(([id, why]) => `${ctx.names[id]} could not be measured: ${why}`).join("; ");
}

function joinNotes(...parts: string[]): string | undefined {
  const text = parts.filter((p) => p !== "").join(" ");
  return text === "" ? undefined : text;
}

/** What signpost-dns still does after /ready: the pause of its one heap settle, from its log. */
function settleNote(ctx: FigureContext): string {
  const pause = ctx.tally.samples("signpost", "settle:pause");
  const after = ctx.tally.samples("signpost", "settle:after-ready");
  if (pause === null || after === null) return "";
  const spread = (v: readonly number[]): string => `${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)} ms`;
  return (
    `${ctx.names.signpost} answers from /ready on while it builds its records in 2 ms turns (a query builds what it reads at once); ` +
    `once they are built it settles its heap, answering nothing for ${spread(pause)}, starting ${spread(after)} after /ready (its log, n=${pause.length}).`
  );
}

function kindNote(ctx: FigureContext, kind: QueryKind, part: "saturation" | "fixed"): string {
  const parts: string[] = [];
  for (const id of ["signpost", "coredns"] as const) {
    const mix = ctx.tally.rcodeMix(id, kind);
    const lost = ctx.tally.lostOf(id, `${kind}:${part}`);
    if (mix === null) continue;
    const lostText = lost !== null && lost.lost > 0 ? `; lost ${lost.lost} of ${lost.sent} queries` : "";
    const achieved = ctx.tally.samples(id, `${kind}:achieved`);
    const rateText = part === "fixed" && achieved !== null ? `; rates achieved ${achieved.map((r) => Math.round(r)).join(", ")} q/s` : "";
    parts.push(`${ctx.names[id]} answered ${rcodeSummary(mix)}${lostText}${rateText}.`);
  }
  return parts.join(" ");
}

function figure(ctx: FigureContext, base: Omit<Figure, "signpost" | "opponent" | "opponentName">, key: string): Figure {
  return {
    ...base,
    signpost: ctx.tally.samples("signpost", key),
    opponent: ctx.tally.samples("coredns", key),
    opponentName: ctx.opponentName,
  };
}

const CEILING_NOTE =
  "The UDP ceiling is test/bench/dns/udp-ceiling.c on the same core under the same dnsperf load, taking its turns in the same slices: it answers every query with one prepared record (recvmmsg/sendmmsg, no lookup), the most any server reaches here.";

const LATENCY_CEILING_NOTE =
  "The UDP ceiling here is the same responder at the same rate, taking its turns in the same slices: the latency of the kernel, the loopback path, waking the core and dnsperf itself, below which no server on this machine can answer.";

/** How a round's run of `seconds` is cut and shared; interleaved-queries.ts. */
function slicesNote(plan: BenchPlan, seconds: number): string {
  const n = sliceCount(seconds, plan.sliceSeconds);
  return `${seconds} s per round, in ${n} slice${n === 1 ? "" : "s"} of ${Number((seconds / n).toFixed(2))} s taking turns with the other servers (all running at once on core 0, only the loaded one busy), so a slow spell of the machine falls on each alike.`;
}

export function dnsFigures(ctx: FigureContext): Figure[] {
  const { plan, tally } = ctx;
  const failures = failureNote(ctx);
  const figures: Figure[] = [];
  const rate = plan.rate.toLocaleString("en-US");
  const udpCeiling = (key: string) => ({ name: "UDP ceiling", samples: tally.samples("ceiling", key) });
  for (const kind of QUERY_KINDS) {
    const group = KIND_GROUP[kind];
    const headline = kind === "cluster" || kind === "search";
    figures.push(
      figure(ctx, {
        group, name: "queries/s at saturation", unit: "q/s", better: "higher", commands: tally.commands(`${kind}:qps`),
        note: joinNotes(slicesNote(plan, plan.saturationSeconds), "Queries/s over all of a round's slices.", kindNote(ctx, kind, "saturation"), CEILING_NOTE, failures),
        ceiling: udpCeiling(`${kind}:qps`),
        ...(kind === "cluster" ? { target: { minRatio: 3, minCeilingShare: 0.5 } } : headline ? { target: { minRatio: 1.2 } } : {}),
      }, `${kind}:qps`),
      figure(ctx, {
        group, name: "queries per CPU second at saturation", unit: "q/CPU s", better: "higher", commands: tally.commands(`${kind}:qps`),
        note: joinNotes("Completed queries over the server's user+system CPU time (/proc/PID/stat) during its saturation slices.", failures),
      }, `${kind}:qps-per-cpu`),
      figure(ctx, {
        group, name: `p50 latency at ${rate} q/s`, unit: "ms", better: "lower", commands: tally.commands(`${kind}:latency`),
        note: joinNotes(`Exact percentile over every query of the round's slices at this rate (dnsperf -v), per round.`, slicesNote(plan, plan.fixedSeconds), LATENCY_CEILING_NOTE, failures),
        ceiling: udpCeiling(`${kind}:p50`),
      }, `${kind}:p50`),
      figure(ctx, {
        group, name: `p99 latency at ${rate} q/s`, unit: "ms", better: "lower", commands: tally.commands(`${kind}:latency`), target: { maxRatio: kind === "cluster" ? 0.3 : 1 },
        note: joinNotes(`Exact percentile over every query of the round's slices at this rate (dnsperf -v), per round; a lost query counts as 5 s.`, slicesNote(plan, plan.fixedSeconds), kindNote(ctx, kind, "fixed"), LATENCY_CEILING_NOTE, failures),
        ceiling: udpCeiling(`${kind}:p99`),
      }, `${kind}:p99`),
    );
  }
  const group = `DNS, ${plan.services.toLocaleString("en-US")} Services with ${(plan.services * plan.endpointsPerService).toLocaleString("en-US")} endpoints`;
  const memCommands = tally.commands("mem:rss");
  const timedOut = (["signpost", "coredns"] as const)
    .map((id) => [id, tally.samples(id, "propagation:timedout")?.reduce((a, b) => a + b, 0) ?? 0] as const)
    .filter(([, n]) => n > 0)
    .map(([id, n]) => `${n} samples of ${ctx.names[id]} never resolved within 30 s and are left out.`)
    .join(" ");
  figures.push(
    figure(ctx, {
      group, name: "RSS after sync (VmRSS)", unit: "MiB", better: "lower", commands: memCommands, target: { maxRatio: 0.75 },
      note: joinNotes("From /proc/PID/status, 2 s after /ready first answered 200; a fresh process each round.", failures),
    }, "mem:rss"),
    figure(ctx, {
      group, name: "peak RSS up to sync (VmHWM)", unit: "MiB", better: "lower", commands: memCommands, target: { maxRatio: 1 },
      note: joinNotes("VmHWM read at the same moment as VmRSS.", failures),
    }, "mem:hwm"),
    figure(ctx, {
      group, name: "peak RSS after all query runs (VmHWM)", unit: "MiB", better: "lower", commands: memCommands,
      note: joinNotes("VmHWM of the process that served the round's query runs, read after all of them; its own sync is included.", failures),
    }, "mem:peak"),
    figure(ctx, {
      group, name: "start to ready (first full sync)", unit: "s", better: "lower", commands: memCommands, target: { maxRatio: 1 },
      note: joinNotes("From spawning the process to /ready answering 200, polled every 25 ms.", settleNote(ctx), failures),
    }, "ready"),
    figure(ctx, {
      group, name: "propagation: Service created → name resolves", unit: "ms", better: "lower", commands: tally.commands("propagation"), target: { maxRatio: 0.5 },
      ceiling: { name: "watch floor", samples: tally.samples("floor", "propagation") },
      note: joinNotes(
        `From sending the create request to the first NOERROR answer with a record; an A query every 5 ms; ${plan.propagationPerRound} Services per round, only the measured server running.`,
        "The watch floor: the same create requests timed to the ADDED event at a bare watch of the namespace in the bench process (both contestants' rounds pooled); no server that watches the API server can answer sooner.",
        timedOut,
        failures,
      ),
    }, "propagation"),
  );
  return figures;
}

export function dnsCurves(ctx: FigureContext): Curve[] {
  const curves: Curve[] = [];
  const present = (["signpost", "coredns"] as const).filter((id) => ctx.tally.samples(id, "ready") !== null);
  for (const kind of QUERY_KINDS) {
    curves.push({
      slug: `dns-latency-cdf-${kind}`,
      title: `${KIND_GROUP[kind]}: latency at ${ctx.plan.rate.toLocaleString("en-US")} q/s, all rounds, up to p99.5`,
      xLabel: "latency (ms)",
      yLabel: "fraction of queries answered within",
      series: present.map((id) => ({ name: ctx.names[id], points: cdfPoints(ctx.tally.allLatencies(id, kind)) })),
    });
  }
  curves.push({
    slug: "dns-propagation-cdf",
    title: "DNS: Service created → name resolves (all samples)",
    xLabel: "propagation (ms)",
    yLabel: "fraction of Services resolving within",
    series: present.map((id) => {
      const ms = [...(ctx.tally.samples(id, "propagation") ?? [])].sort((a, b) => a - b);
      return { name: ctx.names[id], points: ms.map((v, i) => [v, Number(((i + 1) / ms.length).toFixed(4))] as const) };
    }),
  });
  return curves;
}
