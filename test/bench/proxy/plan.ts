// How much each proxy section measures: the full run or, with BENCH_QUICK=1, a small one to try
// the script. The proxy section is 1,000 Services and the fleet; the proxy-10k section
// (BENCH_PROXY_SECTION=proxy-10k) is 10,000 Services with churn: each is a run of its own, about
// an hour and two on a 2-core machine, so one can be re-run without the other and the report
// says, per section, which run its figures come from. Overrides, to try one part: BENCH_PROXY_SCALES="1000,10000",
// BENCH_PROXY_EVENTS="200" (latency events per contestant and scale point, half of them changes),
// BENCH_PROXY_COLD_START_TIMEOUT_S="600" (the default), BENCH_PROXY_FLEET="50" (instances at the
// smallest scale point watching one API server; 0 skips the fleet).
// The proxy-nft section (BENCH_PROXY_IPTABLES=nft, see nftPlan) and the proxy-30k section
// (BENCH_PROXY_SECTION=proxy-30k, see largeScalePlan) are smaller runs of their own.
/**
 * BENCH_PROXY_IPTABLES, read here only: "legacy" (hack/bench.sh's default for the proxy section:
 * both iptables-mode contestants on iptables-legacy), "nft" (the proxy-nft section, on the node's
 * default iptables, which is iptables-nft here), or unset: the node's default, full plan.
 */
export function iptablesChoice(): "legacy" | "nft" | "default" {
  const v = process.env["BENCH_PROXY_IPTABLES"];
  return v === "legacy" || v === "nft" ? v : "default";
}

export type ProxySection = "proxy" | "proxy-10k" | "proxy-nft" | "proxy-30k";

/**
 * Which section this run writes: "proxy-10k" or "proxy-30k" when BENCH_PROXY_SECTION says so
 * (hack/bench.sh sets it), else "proxy-nft" on iptables-nft, else "proxy".
 */
export function proxySection(): ProxySection {
  const named = process.env["BENCH_PROXY_SECTION"];
  if (named === "proxy-10k" || named === "proxy-30k") return named;
  return iptablesChoice() === "nft" ? "proxy-nft" : "proxy";
}

export interface Plan {
  readonly scales: readonly number[];
  /** Runs per contestant and scale point; each is a cold start followed by a latency block. */
  readonly runs: number;
  /** Latency events per contestant and scale point, half "change", half "probe". */
  readonly events: (scale: number, contestant: string) => number;
  /** Quiet time after each event, drawn from [min, max]: longer than the 1 s minSyncPeriod, so every change is programmed alone. */
  readonly pauseMs: readonly [number, number];
  /** Churn, in the last `churnRuns` runs of each contestant, at these scale points. */
  readonly churnScales: readonly number[];
  readonly churnRuns: number;
  readonly churnSeconds: number;
  readonly churnPerSecond: number;
  readonly coldStartTimeoutMs: number;
  readonly eventTimeoutMs: number;
  readonly settleMs: number;
  /** The fleet (fleet.ts): this many instances of each iptables contestant, at the smallest scale point. */
  readonly fleet: { readonly instances: number; readonly churnSeconds: number; readonly perSecond: number; readonly timeoutMs: number };
}

/** BENCH_PROXY_SCALES, or `fallback` when it is unset. */
function scalesOr(fallback: number[]): number[] {
  const override = (process.env["BENCH_PROXY_SCALES"] ?? "").split(",").filter((s) => s !== "").map(Number);
  return override.length > 0 ? override : fallback;
}

/** BENCH_PROXY_COLD_START_TIMEOUT_S in ms; 600 s by default. */
function coldStartTimeoutMs(): number {
  return Number(process.env["BENCH_PROXY_COLD_START_TIMEOUT_S"] ?? 600) * 1000;
}

export function benchPlan(): Plan {
  const section = proxySection();
  if (section === "proxy-nft") return nftPlan();
  if (section === "proxy-30k") return largeScalePlan();
  const quick = process.env["BENCH_QUICK"] === "1";
  const tenThousand = section === "proxy-10k";
  // 30,000 Services is the proxy-30k section's, with fewer latency events.
  const scales = scalesOr(tenThousand ? (quick ? [1000] : [10_000]) : quick ? [100] : [1000]);
  const largest = Math.max(...scales);
  // 600 events: 300 changes (the metric) and 300 new Services (the probe) per contestant and
  // scale point, over the runs, so a p99 rests on 100 samples a run. The nftables reference
  // gets a tenth (its changes took 10-20 s each at 10,000 Services here).
  const mainEvents = Number(process.env["BENCH_PROXY_EVENTS"] ?? (quick ? 20 : 600));
  const events = tenthForNftables(mainEvents);
  // The fleet is the proxy section's; churn, with the CPU and RSS targets, the proxy-10k section's.
  const fleet = { instances: tenThousand ? 0 : Number(process.env["BENCH_PROXY_FLEET"] ?? (quick ? 5 : 50)), churnSeconds: quick ? 10 : 30, perSecond: 10, timeoutMs: 600_000 };
  const churnScales = tenThousand ? [largest] : [];
  return quick
    ? { scales, runs: 2, events, pauseMs: [1000, 1200], churnScales, churnRuns: 1, churnSeconds: 15, churnPerSecond: 10, coldStartTimeoutMs: coldStartTimeoutMs(), eventTimeoutMs: 30_000, settleMs: 2000, fleet }
    : { scales, runs: 3, events, pauseMs: [1000, 1200], churnScales, churnRuns: 3, churnSeconds: 60, churnPerSecond: 10, coldStartTimeoutMs: coldStartTimeoutMs(), eventTimeoutMs: 60_000, settleMs: 3000, fleet };
}

/** `mainEvents` latency events per contestant, a tenth (at least 6) for kube-proxy's nftables mode. */
function tenthForNftables(mainEvents: number): Plan["events"] {
  return (_scale, contestant) => (contestant === "kube-proxy (nftables)" ? Math.max(6, Math.round(mainEvents / 10)) : mainEvents);
}

/** A smaller section's plan: churn once, in the last run, at one scale point, and no fleet. */
function sectionPlan(p: Pick<Plan, "scales" | "runs" | "events" | "churnScales" | "churnSeconds">): Plan {
  return {
    ...p,
    pauseMs: [1000, 1200],
    churnRuns: 1,
    churnPerSecond: 10,
    coldStartTimeoutMs: coldStartTimeoutMs(),
    eventTimeoutMs: 60_000,
    settleMs: 3000,
    fleet: { instances: 0, churnSeconds: 0, perSecond: 0, timeoutMs: 0 },
  };
}

/**
 * The proxy-nft section: both iptables-mode contestants on the node's default iptables, which is
 * iptables-nft. kube-proxy's first restore there grows much faster than linearly (1,130 s for
 * 2,000 Services in an earlier run here, over 300 s at 10,000), so by default one scale point,
 * 1,000 Services, with one run, 40 latency events and 30 s of churn, and the cold start given
 * 600 s: a contestant that takes longer is reported as not measured, with the time-out. The
 * same overrides as the main plan apply to the scales, the events and the time-out.
 */
export function nftPlan(): Plan {
  const scales = scalesOr([1000]);
  const mainEvents = Number(process.env["BENCH_PROXY_EVENTS"] ?? 40);
  return sectionPlan({ scales, runs: 1, events: () => mainEvents, churnScales: [Math.min(...scales)], churnSeconds: 30 });
}

/**
 * The proxy-30k section: 30,000 Services of 10 endpoints, kube-proxy's documented pain point in
 * iptables mode, on iptables-legacy as in the proxy section, against both kube-proxy modes. Three
 * runs each (cold start, latency block, connection rate) and a minute of churn in the last (n=1); no
 * fleet. At 10,000 Services kube-proxy's iptables changes took 2-6 s each here, so the main
 * plan's 600 latency events would take hours at this scale: 60 by default (30 changes, 30 new
 * Services), a tenth for the nftables reference. The same overrides as the main plan apply.
 */
export function largeScalePlan(): Plan {
  const scales = scalesOr([30_000]);
  const mainEvents = Number(process.env["BENCH_PROXY_EVENTS"] ?? 60);
  return sectionPlan({ scales, runs: 3, events: tenthForNftables(mainEvents), churnScales: [Math.max(...scales)], churnSeconds: 60 });
}
