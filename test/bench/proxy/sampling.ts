// Small numeric helpers: percentiles and a CDF curve's points.

/** The p-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((x, y) => x - y);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** [value, fraction of samples ≤ value] for each sample, sorted. */
export function cdfPoints(samples: readonly number[]): [number, number][] {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted.map((v, i) => [v, (i + 1) / sorted.length]);
}

export const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

export function log(message: string): void {
  process.stderr.write(`[bench proxy ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
