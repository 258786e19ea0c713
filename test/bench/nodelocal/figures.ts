// The node-local section's measurements and how they become the report's rows: the node-local
// layout in signpost's column, the plain layout (kube-dns DNATed to the Deployment) in the
// opponent's, one sample per round; and the lookup-latency curve of both.
import type { Curve, Figure } from "../results.ts";
import { loopCommand, percentile, type ConntrackStats, type Lookup } from "./lookups.ts";

export type Layout = "plain" | "nodelocal";
export type Phase = "race" | "deleted" | "killed";

interface Sample {
  readonly lookups: readonly Lookup[];
  readonly stats: ConntrackStats | null;
}

export interface Measured {
  add(layout: Layout, phase: Phase, lookups: readonly Lookup[], stats: ConntrackStats | null): void;
  readonly queriesPerLookup: Map<Layout, number[]>;
}

export class MeasuredImpl implements Measured {
  readonly samples = new Map<string, Sample[]>();
  readonly queriesPerLookup = new Map<Layout, number[]>([
    ["plain", []],
    ["nodelocal", []],
  ]);

  add(layout: Layout, phase: Phase, lookups: readonly Lookup[], stats: ConntrackStats | null): void {
    const key = `${layout}:${phase}`;
    this.samples.set(key, [...(this.samples.get(key) ?? []), { lookups, stats }]);
  }

  of(layout: Layout, phase: Phase): readonly Sample[] {
    return this.samples.get(`${layout}:${phase}`) ?? [];
  }
}

export interface SectionContext {
  readonly plan: { readonly pods: number; readonly workers: number; readonly raceSeconds: number; readonly outsideLookups: number; readonly disruptionSeconds: number };
  readonly outsideName: string;
  readonly load: { readonly start: string; readonly end: string };
  readonly kernel: string;
}

const OPPONENT = "plain layout (kube-dns DNATed to the Deployment)";

function perSample(m: MeasuredImpl, layout: Layout, phase: Phase, f: (s: Sample) => number): number[] | null {
  const samples = m.of(layout, phase);
  return samples.length === 0 ? null : samples.map(f);
}

const slow = (s: Sample): number => s.lookups.filter((l) => l.ms >= 1000).length;
const failed = (s: Sample): number => s.lookups.filter((l) => !l.ok).length;
const okMs = (s: Sample): number[] => s.lookups.filter((l) => l.ok).map((l) => l.ms);

function counts(m: MeasuredImpl, layout: Layout, phase: Phase): string {
  return m
    .of(layout, phase)
    .map((s) => `${s.lookups.length} lookups, ${slow(s)} ≥ 1 s, ${failed(s)} failed${s.stats === null ? "" : `, conntrack insert_failed +${s.stats.insertFailed}, clash_resolve +${s.stats.clashResolve}`}`)
    .join("; ");
}

export function nodeLocalFigures(m: MeasuredImpl, ctx: SectionContext): Figure[] {
  const { plan } = ctx;
  const raceGroup = `(a) race: ${plan.pods} pods × ${plan.workers} loops of getent ahosts, ${plan.raceSeconds} s`;
  const loop = [loopCommand(plan.raceSeconds, "target"), "conntrack -S (each node's netns, before and after)"];
  const fig = (base: Omit<Figure, "signpost" | "opponent" | "opponentName">, phase: Phase, f: (s: Sample) => number): Figure => ({
    ...base,
    signpost: perSample(m, "nodelocal", phase, f),
    opponent: perSample(m, "plain", phase, f),
    opponentName: OPPONENT,
  });
  const raceNote =
    `Kernel ${ctx.kernel}; load average ${ctx.load.start} at the start, ${ctx.load.end} at the end (2 cores shared with other work). ` +
    `Per round, node-local: ${counts(m, "nodelocal", "race")}. Plain: ${counts(m, "plain", "race")}. ` +
    "A lookup that loses a query to the insert race waits glibc's 5 s timeout, so it shows as ≥ 1 s (so does one slowed by the machine's load).";
  const figures: Figure[] = [
    fig({ group: raceGroup, name: "lookups taking ≥ 1 s", unit: "lookups", better: "lower", commands: loop, note: raceNote }, "race", slow),
    fig({ group: raceGroup, name: "failed lookups", unit: "lookups", better: "lower", commands: loop }, "race", failed),
    fig({ group: raceGroup, name: "conntrack insert_failed (both nodes)", unit: "entries", better: "lower", commands: loop }, "race", (s) => s.stats?.insertFailed ?? Number.NaN),
    fig({ group: raceGroup, name: "lookups completed", unit: "lookups", better: "higher", commands: loop }, "race", (s) => s.lookups.length),
    {
      group: `(b) ndots:5, getent ahosts ${ctx.outsideName} from a pod`,
      name: "queries per outside-name lookup, counted by the DNS replicas",
      unit: "queries",
      better: "lower",
      signpost: nullIfEmpty(m.queriesPerLookup.get("nodelocal")),
      opponent: nullIfEmpty(m.queriesPerLookup.get("plain")),
      opponentName: OPPONENT,
      commands: [`getent ahosts ${ctx.outsideName} (×${plan.outsideLookups})`, "sum of coredns_dns_requests_total over every replica, before and after"],
      note: "The search list (3 domains) and A + AAAA make 8 queries per lookup in both layouts: the node-local replica answers them nearer, it does not answer fewer. Server-side search expansion (autopath) is issue 18 item 3, not measured here.",
    },
    fig({ group: "(c) lookup latency (the race loops' resolved lookups)", name: "p50", unit: "ms", better: "lower", commands: loop }, "race", (s) => percentile(okMs(s), 50)),
    fig({ group: "(c) lookup latency (the race loops' resolved lookups)", name: "p99", unit: "ms", better: "lower", commands: loop }, "race", (s) => percentile(okMs(s), 99)),
  ];
  for (const how of ["deleted", "killed"] as const) {
    const group = `(d) replica ${how === "deleted" ? "deleted (kubectl delete pod: lameduck, then replaced)" : "SIGKILLed (as an OOM kill; the kubelet restarts it)"} under a lookup loop`;
    const commands = [loopCommand(plan.disruptionSeconds, "target"), how === "deleted" ? "kubectl -n kube-system delete pod VICTIM" : "kill -KILL (the replica's process)"];
    const note = `Victim: the client node's node-local replica (node-local), a Deployment replica on the client node (plain). Node-local: ${counts(m, "nodelocal", how)}. Plain: ${counts(m, "plain", how)}. A lookup ≥ 1 s waited for a retry.`;
    figures.push(
      fig({ group, name: "failed lookups", unit: "lookups", better: "lower", commands, note }, how, failed),
      fig({ group, name: "lookups that needed a retry (≥ 1 s)", unit: "lookups", better: "lower", commands }, how, slow),
    );
  }
  return figures;
}

function nullIfEmpty(v: number[] | undefined): number[] | null {
  return v === undefined || v.length === 0 ? null : v;
}

/** Lookup latency by percentile, both layouts, all race rounds together. */
export function nodeLocalCurves(m: MeasuredImpl): Curve[] {
  const series = (["nodelocal", "plain"] as const).map((layout) => {
    const ms = m.of(layout, "race").flatMap(okMs);
    const points: [number, number][] = [];
    for (const p of [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9]) if (ms.length > 0) points.push([p, percentile(ms, p)]);
    return { name: layout === "nodelocal" ? "node-local layout" : "plain layout", points };
  });
  return [{ slug: "nodelocal-lookup-latency", title: "getent ahosts latency from pods by percentile", xLabel: "percentile", yLabel: "ms", series }];
}
