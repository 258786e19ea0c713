// Turns the measurements into the section's figures and curves (test/bench/results.ts): one row
// per figure and opponent (kube-proxy's iptables mode, with the issue's targets at the largest
// scale point, and its nftables mode as a reference), raw samples for both sides, and null with
// the reason for a side that could not be measured.
import type { Curve, Figure } from "../results.ts";
import type { ContestantMeasurements, ScaleMeasurements } from "./measurements.ts";
import { cdfPoints, percentile, round } from "./sampling.ts";
import type { Plan } from "./plan.ts";

interface FigureSpec {
  readonly name: string;
  readonly unit: string;
  readonly better: "lower" | "higher";
  readonly samples: (s: ScaleMeasurements) => number[];
  /** The issue's goal against kube-proxy's iptables mode at the largest scale point. */
  readonly target?: { readonly maxRatio?: number; readonly minRatio?: number };
  readonly commands: (signpost: ContestantMeasurements, opponent: ContestantMeasurements | null) => string[];
  readonly note: (signpost: ScaleMeasurements | undefined, opponent: ScaleMeasurements | undefined) => string;
}

const ms = (seconds: readonly number[]): number[] => seconds.map((s) => round(s * 1000, 1));
const pct = (values: readonly number[], p: number): number[] => (values.length === 0 ? [] : [round(percentile(values, p) * 1000, 1)]);
const n = (s: ScaleMeasurements | undefined, pick: (s: ScaleMeasurements) => readonly unknown[]): string => (s === undefined ? "0" : String(pick(s).length));

function daemonCommands(signpost: ContestantMeasurements, opponent: ContestantMeasurements | null): string[] {
  return [...signpost.command, ...(opponent?.command ?? [])];
}

/** p50 and p99 of one way of measuring programming latency; the issue's target is on the p99. */
function latencyFigures(source: "metric" | "probe", pick: (s: ScaleMeasurements) => readonly number[], command: string, what: string): FigureSpec[] {
  return [50, 99].map((p) => ({
    name: `programming latency p${p}, ${source}`,
    unit: "ms",
    better: "lower",
    samples: (s) => pct(pick(s), p),
    ...(p === 99 ? { target: { maxRatio: 0.5 } } : {}),
    commands: (s, o) => [...daemonCommands(s, o), command],
    note: (s, o) => `${what}; samples: signpost ${n(s, pick)}, opponent ${n(o, pick)}`,
  }));
}

export function figureSpecs(plan: Plan): FigureSpec[] {
  const churnWhat = `${plan.churnPerSecond} endpoint changes/s for ${plan.churnSeconds} s`;
  return [
    {
      name: "cold start",
      unit: "s",
      better: "lower",
      samples: (s) => s.coldStartSeconds.map((v) => round(v, 2)),
      target: { maxRatio: 1 },
      commands: (s, o) => [...daemonCommands(s, o), "ip netns exec NODE_NETNS iptables -w -t nat -S KUBE-SERVICES (polled), then iptables-save -t nat", "ip netns exec NODE_NETNS nft list map ip kube-proxy service-ips (polled), then nft list table ip kube-proxy"],
      note: (s, o) =>
        `process start to every ClusterIP and endpoint in the kernel's rules, one sample per run; poll resolution ≤ ${round(Math.max(s?.pollSeconds ?? 0, o?.pollSeconds ?? 0), 2)} s`,
    },
    ...latencyFigures("metric", (x) => x.metricSeconds, "curl NODE:10249/metrics (kubeproxy_network_programming_duration_seconds _sum/_count around each change)", "one endpoint of one EndpointSlice replaced (trigger-time annotated), the daemon's own observation"),
    ...latencyFigures("probe", (x) => x.probeSeconds, "ip netns exec CLIENT_POD node test/bench/proxy/first-connection-prober.ts", "Service + EndpointSlice created, until the first TCP connection from a pod to its ClusterIP succeeds"),
    {
      name: "CPU under churn, daemon",
      unit: "CPU s",
      better: "lower",
      samples: (s) => s.churn.map((c) => round(c.cpuOwnSeconds, 2)),
      target: { maxRatio: 1 },
      commands: (s, o) => [...daemonCommands(s, o), "cat /proc/PID/stat (utime+stime)"],
      note: () => `${churnWhat}; utime+stime of the daemon's process over the window`,
    },
    {
      name: "CPU under churn, daemon + iptables-restore/nft",
      unit: "CPU s",
      better: "lower",
      samples: (s) => s.churn.map((c) => round(c.cpuWithChildrenSeconds, 2)),
      target: { maxRatio: 1 },
      commands: (s, o) => [...daemonCommands(s, o), "cat /proc/PID/stat (utime+stime+cutime+cstime)"],
      note: () => `${churnWhat}; also counts the children the daemon ran and waited for (iptables-restore, nft)`,
    },
    {
      name: "peak RSS under churn",
      unit: "MiB",
      better: "lower",
      samples: (s) => s.churn.map((c) => round(c.peakRssMiB, 1)),
      commands: (s, o) => [...daemonCommands(s, o), "echo 5 > /proc/PID/clear_refs; grep VmHWM /proc/PID/status"],
      note: () => `${churnWhat}; VmHWM, reset when the churn started`,
    },
    {
      name: "rules after churn",
      unit: "rules",
      better: "lower",
      samples: (s) => s.churn.map((c) => c.rules.rules),
      commands: (s, o) => [...daemonCommands(s, o), "ip netns exec NODE_NETNS iptables-save | grep -c '^-A'", "ip netns exec NODE_NETNS nft list ruleset (rules in chains + map/set elements)"],
      note: () => "iptables: -A lines in every table; nftables: rules in chains plus map and set elements",
    },
    {
      name: "rule set size after churn",
      unit: "bytes",
      better: "lower",
      samples: (s) => s.churn.map((c) => c.rules.bytes),
      commands: (s, o) => [...daemonCommands(s, o), "ip netns exec NODE_NETNS iptables-save | wc -c", "ip netns exec NODE_NETNS nft list ruleset | wc -c"],
      note: () => "bytes of iptables-save (every table) or nft list ruleset: the text a full restore would load",
    },
  ];
}

function samplesOf(m: ContestantMeasurements | null, scale: number, pick: (s: ScaleMeasurements) => number[]): number[] | null {
  if (m === null) return null;
  const s = m.byScale.get(scale);
  if (s === undefined) return null;
  const v = pick(s);
  return v.length === 0 ? null : v;
}

function sideNote(label: string, m: ContestantMeasurements | null, values: number[] | null, scale: number): string {
  if (values !== null) return "";
  if (m === null) return `${label}: not built (hack/bench.sh found no kube-proxy binary)`;
  const problems = m.byScale.get(scale)?.problems ?? [];
  return `${label}: not measured${m.failure === null ? "" : `: ${m.failure}`}${problems.length > 0 ? ` (${problems.slice(0, 3).join("; ")})` : ""}`;
}

export function buildFigures(plan: Plan, signpost: ContestantMeasurements, opponents: readonly { name: string; version: string; m: ContestantMeasurements | null; targets: boolean }[]): Figure[] {
  const figures: Figure[] = [];
  const largest = Math.max(...plan.scales);
  for (const scale of plan.scales) {
    for (const spec of figureSpecs(plan)) {
      const isChurn = spec.name.includes("churn");
      if (isChurn && !plan.churnScales.includes(scale)) continue;
      for (const o of opponents) {
        const s = samplesOf(signpost, scale, spec.samples);
        const op = samplesOf(o.m, scale, spec.samples);
        const notes = [
          spec.note(signpost.byScale.get(scale), o.m?.byScale.get(scale)),
          sideNote("signpost", signpost, s, scale),
          sideNote(o.name, o.m, op, scale),
        ].filter((x) => x !== "");
        figures.push({
          group: `proxy, ${scale.toLocaleString("en-US")} Services × 10 endpoints`,
          name: spec.name,
          unit: spec.unit,
          better: spec.better,
          signpost: s,
          opponent: op,
          opponentName: `${o.name} ${o.version}`,
          commands: spec.commands(signpost, o.m),
          note: notes.join(". "),
          ...(o.targets && scale === largest && spec.target !== undefined ? { target: spec.target } : {}),
        });
      }
    }
  }
  return figures;
}

export function buildCurves(plan: Plan, all: readonly ContestantMeasurements[]): Curve[] {
  const curves: Curve[] = [];
  const median = (v: readonly number[]): number => percentile(v, 50);
  curves.push({
    slug: "proxy-cold-start",
    title: "Cold start against the number of Services (median of the runs)",
    xLabel: "Services (10 endpoints each)",
    yLabel: "seconds to the full rule set",
    series: all.map((m) => ({
      name: m.name,
      points: plan.scales.flatMap((scale) => {
        const v = m.byScale.get(scale)?.coldStartSeconds ?? [];
        return v.length === 0 ? [] : [[scale, round(median(v), 3)] as const];
      }),
    })),
  });
  for (const scale of plan.scales) {
    for (const [kind, pick, what] of [
      ["metric", (s: ScaleMeasurements) => s.metricSeconds, "network_programming_duration_seconds per EndpointSlice change"],
      ["probe", (s: ScaleMeasurements) => s.probeSeconds, "new Service to its first successful connection"],
    ] as const) {
      curves.push({
        slug: `proxy-programming-latency-${kind}-${scale}`,
        title: `Network programming latency at ${scale.toLocaleString("en-US")} Services: ${what} (CDF)`,
        xLabel: "milliseconds",
        yLabel: "fraction of changes",
        series: all.map((m) => ({ name: m.name, points: cdfPoints(ms(pick(m.byScale.get(scale) ?? { coldStartSeconds: [], metricSeconds: [], probeSeconds: [], churn: [], problems: [], pollSeconds: 0 }))) })),
      });
    }
  }
  return curves;
}
