// How big and how long the DNS section runs: the scale by default (10,000 Services of 10
// endpoints, three rounds), a small one with BENCH_QUICK=1 to try the script, and environment
// overrides for a profiling run. Every number here ends up in the report's figure names or notes.
export interface BenchPlan {
  readonly services: number;
  readonly endpointsPerService: number;
  /** Each round starts each contestant afresh, measures everything once, and stops it. */
  readonly rounds: number;
  readonly warmSeconds: number;
  readonly saturationSeconds: number;
  readonly fixedSeconds: number;
  /** Saturation and fixed-rate runs are cut into slices of about this long, taking turns between the servers (interleaved-queries.ts). */
  readonly sliceSeconds: number;
  /** The fixed offered rate (dnsperf -Q) for the latency figures, the same for both. */
  readonly rate: number;
  readonly propagationPerRound: number;
  readonly readyTimeoutMs: number;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: not a positive number`);
  return value;
}

export function benchPlan(): BenchPlan {
  const quick = process.env["BENCH_QUICK"] === "1";
  const saturationSeconds = envNumber("BENCH_DNS_SECONDS", quick ? 3 : 10);
  return {
    services: envNumber("BENCH_DNS_SERVICES", quick ? 1000 : 10_000),
    endpointsPerService: 10,
    rounds: envNumber("BENCH_DNS_ROUNDS", quick ? 2 : 3),
    warmSeconds: 1,
    saturationSeconds,
    fixedSeconds: envNumber("BENCH_DNS_FIXED_SECONDS", quick ? 3 : 8),
    sliceSeconds: envNumber("BENCH_DNS_SLICE_SECONDS", quick ? 1 : 2),
    rate: envNumber("BENCH_DNS_RATE", 5000),
    propagationPerRound: envNumber("BENCH_DNS_PROPAGATION", 10),
    readyTimeoutMs: 180_000,
  };
}
