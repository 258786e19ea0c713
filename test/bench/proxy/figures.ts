// Turns the measurements into the section's figures and curves (test/bench/results.ts): one row
// per figure and opponent (kube-proxy's iptables mode, with the issue's targets at their
// scale point, and its nftables mode as a reference), raw samples for both sides, and null with
// the reason for a side that could not be measured.
import type { Curve, Figure } from "../results.ts";
import { type ContestantMeasurements, emptyScale, type ScaleMeasurements } from "./measurements.ts";
import type { FleetResult } from "./fleet.ts";
import { cdfPoints, percentile, round } from "./sampling.ts";
import type { Plan } from "./plan.ts";
import { BACKEND_POD_IP, BACKEND_PORT } from "./bench-node.ts";
import { CONNECT_RATE_SECONDS } from "./connect-rate.ts";

interface FigureSpec {
  readonly name: string;
  readonly unit: string;
  readonly better: "lower" | "higher" | "neither";
  readonly samples: (s: ScaleMeasurements) => number[];
  /** The issue's goal against kube-proxy's iptables mode at a scale point (targetScale: 10,000 when measured, else the largest). */
  readonly target?: (scale: number, targetScale: number) => { readonly maxRatio?: number; readonly minRatio?: number } | undefined;
  readonly commands: (signpost: ContestantMeasurements, opponent: ContestantMeasurements | null) => string[];
  readonly note: (signpost: ScaleMeasurements | undefined, opponent: ScaleMeasurements | undefined, opponentName: string) => string;
  /** The machine's limit for the figure, from signpost's runs. */
  readonly ceiling?: { readonly name: string; readonly samples: (signpost: ScaleMeasurements) => number[] };
}

/** Both connection figures come from the same two runs of connect-rate.c. */
const connectRateCommands = (): string[] => [
  `ip netns exec CLIENT_POD taskset -c 1 connect-rate CLUSTER_IP 80 ${CONNECT_RATE_SECONDS}`,
  `ip netns exec CLIENT_POD taskset -c 1 connect-rate ${BACKEND_POD_IP} ${BACKEND_PORT} ${CONNECT_RATE_SECONDS}`,
];
const ms = (seconds: readonly number[]): number[] => seconds.map((s) => round(s * 1000, 1));
const pct = (values: readonly number[], p: number): number[] => (values.length === 0 ? [] : [round(percentile(values, p) * 1000, 1)]);
const n = (s: ScaleMeasurements | undefined, pick: (s: ScaleMeasurements) => readonly unknown[]): string => (s === undefined ? "0" : String(pick(s).length));

function daemonCommands(signpost: ContestantMeasurements, opponent: ContestantMeasurements | null): string[] {
  return [...signpost.command, ...(opponent?.command ?? [])];
}

/** p50 and p99 of one way of measuring programming latency; the issue's target is on the p99. */
function latencyFigures(source: "metric" | "probe", pickRuns: (s: ScaleMeasurements) => readonly (readonly number[])[], command: string, what: string): FigureSpec[] {
  const pick = (s: ScaleMeasurements): number[] => pickRuns(s).flat();
  return [50, 99].map((p) => ({
    name: `programming latency p${p}, ${source}`,
    unit: "ms",
    better: "lower",
    // One value per run: the percentile of that run's samples, so the spread across runs shows.
    samples: (s) => pickRuns(s).filter((run) => run.length > 0).flatMap((run) => pct(run, p)),
    ...(p === 99 ? { target: (scale: number, at: number) => (scale === at ? { maxRatio: 0.3 } : undefined) } : {}),
    commands: (s, o) => [...daemonCommands(s, o), command],
    note: (s, o, name) => `${what}; each value is one run's p${p}; samples over all runs: signpost ${n(s, pick)}, ${name} ${n(o, pick)}`,
  }));
}

export function figureSpecs(plan: Plan): FigureSpec[] {
  const churnWhat = `${plan.churnPerSecond} endpoint changes/s for ${plan.churnSeconds} s`;
  return [
    {
      name: "cold start",
      unit: "s",
      better: "lower",
      samples: (s) => s.coldStartSeconds.map((v) => round(v, 3)),
      target: (scale) => (scale === 1000 ? { maxRatio: 0.7 } : scale === 10_000 ? { maxRatio: 0.3 } : undefined),
      ceiling: { name: "iptables-restore floor", samples: (s) => s.restoreFloorSeconds.map((v) => round(v, 3)) },
      commands: (s, o) => [
        ...daemonCommands(s, o),
        "ip netns exec CLIENT_POD node test/bench/proxy/first-connection-prober.ts (a probe Service made before the start), then iptables-save -t nat / nft list table ip kube-proxy once",
        "ip netns exec NODE_NETNS iptables-save -t nat, its KUBE-SERVICES and KUBE-DST-* rules / nft list map ip kube-proxy service-ips (polled, only when the probe connected before the full set)",
      ],
      note: (s, o) =>
        `process start to the first TCP connection from a pod through the ClusterIP of a probe Service made before the start (tried every 2 ms; a first sync programs every Service at once), confirmed by reading the whole NAT table right after: every ClusterIP and endpoint must be there, else the Service list is polled until it is. One sample per run. The iptables-restore floor is signpost's own rule set (iptables-save of the node after its cold start) restored by one iptables-restore into an empty namespace: no proxy writes those rules faster. Resolution ≤ ${round(Math.max(s?.resolutionSeconds ?? 0, o?.resolutionSeconds ?? 0) * 1000, 1)} ms`,
    },
    {
      name: "restart with the rules in place",
      unit: "s",
      better: "lower",
      samples: (s) => s.restartSeconds.map((v) => round(v, 3)),
      commands: (s, o) => [
        ...daemonCommands(s, o),
        "kill -TERM DAEMON (both proxies leave their rules in place on SIGTERM); a new probe Service made; the daemon started again; ip netns exec CLIENT_POD node test/bench/proxy/first-connection-prober.ts",
      ],
      note: () =>
        "what every node pays on a DaemonSet rollout: at the end of each run the daemon is stopped with SIGTERM, leaving the node's rules in place, a probe Service is made while it is down, and the same daemon is started again; process start to the first TCP connection from a pod through that Service's ClusterIP (tried every 2 ms), confirmed as the cold start is, and within the resolution given there, which covers these samples too. One sample per run",
    },
    {
      name: "new connections/s through a ClusterIP",
      unit: "conn/s",
      better: "higher",
      samples: (s) => s.connectPerSecond.map((v) => Math.round(v)),
      ceiling: { name: "straight to the pod", samples: (s) => s.directConnectPerSecond.map((v) => Math.round(v)) },
      commands: connectRateCommands,
      note: () =>
        `one TCP connection after the other for ${CONNECT_RATE_SECONDS} s from the client pod to the probe Service (one of the set), each reading the backend's greeting (test/bench/proxy/connect-rate.c); its first packet walks the proxy's NAT rules, so this is the rule layout's cost as pods feel it. "Straight to the pod" is the same to the backend's own IP in the same run, with no Service rule matched. One sample per run, after the latency block, each of the two runs begun once the proxy and its children used at most 0.04 CPU s in 2 s (a sync left over from the latency block would otherwise weigh on the first run only)`,
    },
    {
      name: "new connections through a ClusterIP, as a share of straight to the pod",
      unit: "%",
      better: "higher",
      samples: (s) =>
        s.connectPerSecond.flatMap((through, i) => {
          const direct = s.directConnectPerSecond[i] ?? 0;
          return direct > 0 ? [round((100 * through) / direct, 1)] : [];
        }),
      commands: connectRateCommands,
      note: () =>
        "each run's rate through the ClusterIP over the rate straight to the backend pod measured right after it on the same node, paired: the machine's drift between runs, which moves both, cancels, so this row holds where the one above swings with the machine. 100% would be a rule walk that costs nothing. One sample per run",
    },
    ...latencyFigures("metric", (x) => x.metricRuns, "curl NODE:10249/metrics (kubeproxy_network_programming_duration_seconds _sum/_count around each change)", "one endpoint of one EndpointSlice replaced (trigger-time annotated), the daemon's own observation"),
    ...latencyFigures("probe", (x) => x.probeRuns, "ip netns exec CLIENT_POD node test/bench/proxy/first-connection-prober.ts", "Service + EndpointSlice created, until the first TCP connection from a pod to its ClusterIP succeeds"),
    {
      name: "CPU under churn, daemon",
      unit: "CPU s",
      better: "lower",
      samples: (s) => s.churn.map((c) => round(c.cpuOwnSeconds, 2)),
      commands: (s, o) => [...daemonCommands(s, o), "cat /proc/PID/stat (utime+stime)"],
      note: () => `${churnWhat}; utime+stime of the daemon's process over the window`,
    },
    {
      name: "CPU under churn, daemon + iptables-restore/nft",
      unit: "CPU s",
      better: "lower",
      samples: (s) => s.churn.map((c) => round(c.cpuWithChildrenSeconds, 2)),
      target: (scale, at) => (scale === at ? { maxRatio: 0.8 } : undefined),
      commands: (s, o) => [...daemonCommands(s, o), "cat /proc/PID/stat (utime+stime+cutime+cstime)"],
      note: () => `${churnWhat}; also counts the children the daemon ran and waited for (iptables-restore, nft)`,
    },
    {
      name: "syncs under churn",
      unit: "syncs",
      better: "neither",
      samples: (s) => s.churn.flatMap((c) => (c.syncs === undefined ? [] : [c.syncs])),
      commands: (s, o) => [...daemonCommands(s, o), "curl NODE:10249/metrics (kubeproxy_sync_proxy_rules_duration_seconds_count before and 3 s after the window)"],
      note: () => `${churnWhat}; syncs (each one iptables-restore or nft run per family with rules) from the start of the window until 3 s after it: fewer syncs batch more changes each`,
    },
    {
      name: "mean programming latency under churn",
      unit: "s",
      better: "lower",
      samples: (s) => s.churn.flatMap((c) => (c.meanProgrammingSeconds === undefined ? [] : [round(c.meanProgrammingSeconds, 3)])),
      commands: (s, o) => [...daemonCommands(s, o), "curl NODE:10249/metrics (kubeproxy_network_programming_duration_seconds _sum/_count before and 3 s after the window)"],
      note: () => `${churnWhat}; the mean of the daemon's own observations for the changes programmed from the start of the window until 3 s after it (difference of the sums over that of the counts): the latency the CPU above bought`,
    },
    {
      name: "peak RSS under churn",
      unit: "MiB",
      better: "lower",
      samples: (s) => s.churn.map((c) => round(c.peakRssMiB, 1)),
      target: (scale, at) => (scale === at ? { maxRatio: 0.8 } : undefined),
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
  const targetScale = plan.scales.includes(10_000) ? 10_000 : Math.max(...plan.scales);
  for (const scale of plan.scales) {
    for (const spec of figureSpecs(plan)) {
      const isChurn = spec.name.includes("churn");
      if (isChurn && !plan.churnScales.includes(scale)) continue;
      for (const o of opponents) {
        const s = samplesOf(signpost, scale, spec.samples);
        const op = samplesOf(o.m, scale, spec.samples);
        const notes = [
          spec.note(signpost.byScale.get(scale), o.m?.byScale.get(scale), o.name),
          sideNote("signpost", signpost, s, scale),
          sideNote(o.name, o.m, op, scale),
        ].filter((x) => x !== "");
        const target = o.targets ? spec.target?.(scale, targetScale) : undefined;
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
          ...(target === undefined ? {} : { target }),
          ...(spec.ceiling === undefined ? {} : { ceiling: { name: spec.ceiling.name, samples: samplesOf(signpost, scale, spec.ceiling.samples) } }),
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
      ["metric", (s: ScaleMeasurements) => s.metricRuns.flat(), "network_programming_duration_seconds per EndpointSlice change"],
      ["probe", (s: ScaleMeasurements) => s.probeRuns.flat(), "new Service to its first successful connection"],
    ] as const) {
      curves.push({
        slug: `proxy-programming-latency-${kind}-${scale}`,
        title: `Network programming latency at ${scale.toLocaleString("en-US")} Services: ${what} (CDF)`,
        xLabel: "milliseconds",
        yLabel: "fraction of changes",
        series: all.map((m) => ({ name: m.name, points: cdfPoints(ms(pick(m.byScale.get(scale) ?? emptyScale()))) })),
      });
    }
  }
  return curves;
}

/** What the fleet gave for one contestant: its result, or why it could not be measured. */
export type FleetOutcome = { readonly scale: number } & ({ readonly result: FleetResult } | { readonly failure: string });

/** The fleet's rows: signpost against kube-proxy's iptables mode, each instance a sample where the figure is per instance. */
export function fleetFigures(fleets: ReadonlyMap<string, FleetOutcome>, opponentName: string): Figure[] {
  const s = fleets.get("signpost");
  const o = fleets.get("kube-proxy (iptables)");
  if (s === undefined) return [];
  const pick = (x: FleetOutcome | undefined, f: (r: FleetResult) => number[]): number[] | null => (x !== undefined && "result" in x ? f(x.result) : null);
  const named = [{ name: "signpost", x: s }, { name: opponentName, x: o }];
  const failures = named.flatMap(({ name, x }) => (x !== undefined && "failure" in x ? [`${name}: ${x.failure}`] : [])).join("; ");
  const instances = "result" in s ? s.result.instances : o !== undefined && "result" in o ? o.result.instances : 0;
  const group = `proxy fleet: ${instances} instances on one API server, ${s.scale.toLocaleString("en-US")} Services`;
  const base = { group, opponentName, commands: ["test/bench/proxy/fleet.ts: N nodes (network namespaces), the contestant started on each at once; curl NODE:10256/healthz; /proc/PID/status and /proc/PID/stat; GET /metrics of the API server"] };
  const note = (text: string): string => [text, failures].filter((t) => t !== "").join(". ");
  const firstExits = named.flatMap(({ name, x }) => (x !== undefined && "result" in x && x.result.firstExit !== null ? [`${name}'s first exit: ${x.result.firstExit}`] : []));
  return [
    {
      ...base,
      name: "instance exits, each restarted after the kubelet's back-off",
      unit: "exits",
      better: "lower",
      signpost: pick(s, (r) => [r.exits]),
      opponent: pick(o, (r) => [r.exits]),
      note: note(["over the whole fleet run; an exited instance is started again 10 s later, doubling, as the kubelet restarts a DaemonSet's pod; n=1", ...firstExits].join(". ")),
    },
    { ...base, name: "time until every instance is healthy", unit: "s", better: "lower", signpost: pick(s, (r) => [round(r.allSyncedSeconds, 2)]), opponent: pick(o, (r) => [round(r.allSyncedSeconds, 2)]), note: note("from starting the first instance until every one's /healthz answers 200 in one round of polls, every 100 ms; an instance that exited counts from its restart; n=1") },
    { ...base, name: "RSS per instance after sync", unit: "MiB", better: "lower", target: { maxRatio: 0.8 }, signpost: pick(s, (r) => r.rssMiB.map((v) => round(v, 1))), opponent: pick(o, (r) => r.rssMiB.map((v) => round(v, 1))), note: note("VmRSS of each instance 5 s after all were healthy (and healthy again, had one exited meanwhile); one sample per instance") },
    { ...base, name: "watch requests held by the API server", unit: "watches", better: "lower", signpost: pick(s, (r) => [r.watches]), opponent: pick(o, (r) => [r.watches]), note: note('apiserver_longrunning_requests{verb="WATCH"} with the fleet running, less before it started; n=1') },
    { ...base, name: "API server CPU under churn", unit: "CPU s/s", better: "lower", signpost: pick(s, (r) => [round(r.apiServerCpu, 3)]), opponent: pick(o, (r) => [round(r.apiServerCpu, 3)]), note: note("the API server's user+system CPU per second while 10 endpoint changes a second went to every instance; n=1") },
    { ...base, name: "CPU per instance under churn, with iptables-restore", unit: "CPU s", better: "lower", signpost: pick(s, (r) => r.instanceCpuSeconds.map((v) => round(v, 2))), opponent: pick(o, (r) => r.instanceCpuSeconds.map((v) => round(v, 2))), note: note("each instance's own and its children's CPU over the churn window; one sample per instance, none for an instance that exited within it") },
  ];
}
