// How much the proxy section measures: the full run or, with BENCH_QUICK=1, a small one to try
// the script. Overrides, to try one part: BENCH_PROXY_SCALES="1000,10000",
// BENCH_PROXY_EVENTS="200" (latency events per contestant and scale point, half of them changes),
// BENCH_PROXY_COLD_START_TIMEOUT_S="600" (the default).
export interface Plan {
  readonly scales: readonly number[];
  /** Runs per contestant and scale point; each is a cold start followed by a latency block. */
  readonly runs: number;
  /** Latency events per contestant and scale point, half "change", half "probe". */
  readonly events: (scale: number, contestant: string) => number;
  /** Quiet time after each event, drawn from [min, max]: longer than the 1 s minSyncPeriod, so every change is programmed alone. */
  readonly pauseMs: readonly [number, number];
  /** Churn, in the last run of each contestant, at these scale points. */
  readonly churnScales: readonly number[];
  readonly churnSeconds: number;
  readonly churnPerSecond: number;
  readonly coldStartTimeoutMs: number;
  readonly eventTimeoutMs: number;
  readonly settleMs: number;
}

export function benchPlan(): Plan {
  const quick = process.env["BENCH_QUICK"] === "1";
  const override = (process.env["BENCH_PROXY_SCALES"] ?? "").split(",").filter((s) => s !== "").map(Number);
  const scales = override.length > 0 ? override : quick ? [100, 1000] : [1000, 10_000];
  const largest = Math.max(...scales);
  // 600 events: 300 changes (the metric) and 300 new Services (the probe) per contestant and
  // scale point, over the runs, so a p99 rests on 100 samples a run. The nftables reference
  // gets a fifth (its changes took 10-20 s each at 10,000 Services here).
  const mainEvents = Number(process.env["BENCH_PROXY_EVENTS"] ?? (quick ? 20 : 600));
  const events = (_scale: number, contestant: string): number => (contestant === "kube-proxy (nftables)" ? Math.max(4, Math.round(mainEvents / 5)) : mainEvents);
  const timeoutS = Number(process.env["BENCH_PROXY_COLD_START_TIMEOUT_S"] ?? 600);
  return quick
    ? { scales, runs: 2, events, pauseMs: [1000, 1200], churnScales: [largest], churnSeconds: 15, churnPerSecond: 10, coldStartTimeoutMs: timeoutS * 1000, eventTimeoutMs: 30_000, settleMs: 2000 }
    : { scales, runs: 3, events, pauseMs: [1000, 1200], churnScales: [largest], churnSeconds: 60, churnPerSecond: 10, coldStartTimeoutMs: timeoutS * 1000, eventTimeoutMs: 60_000, settleMs: 3000 };
}
