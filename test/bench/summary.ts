// The arithmetic of the benchmark report: median and spread of a contestant's samples, the ratio
// signpost/opponent, whether a target is met, and how numbers are printed. Pure, so it is tested.
import type { Curve, Figure } from "./results.ts";

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spreadOf(samples: readonly number[] | null): Spread | null {
  if (samples === null || samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, n: sorted.length };
}

/** signpost's median over the opponent's; null when either is missing or the opponent is 0. */
export function ratioOf(figure: Figure): number | null {
  const s = spreadOf(figure.signpost);
  const o = spreadOf(figure.opponent);
  if (s === null || o === null || o.median === 0) return null;
  return s.median / o.median;
}

/** A contestant's median as a fraction of the ceiling's median; null when either is missing. */
export function ceilingShareOf(figure: Figure, samples: readonly number[] | null): number | null {
  const c = spreadOf(figure.ceiling?.samples ?? null);
  const s = spreadOf(samples);
  if (c === null || s === null || c.median === 0) return null;
  return s.median / c.median;
}

export type Verdict = "met" | "missed" | "no target" | "not measured";

export function verdictOf(figure: Figure): Verdict {
  if (figure.target === undefined) return "no target";
  const ratio = ratioOf(figure);
  if (ratio === null) return "not measured";
  const { maxRatio, minRatio, minCeilingShare } = figure.target;
  if (maxRatio !== undefined && ratio > maxRatio) return "missed";
  if (minRatio !== undefined && ratio < minRatio) return "missed";
  if (minCeilingShare !== undefined) {
    const share = ceilingShareOf(figure, figure.signpost);
    if (share === null) return "not measured";
    if (share < minCeilingShare) return "missed";
  }
  return "met";
}

export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

export function formatSpread(spread: Spread | null, unit: string): string {
  if (spread === null) return "missing";
  const range = spread.n > 1 ? ` (${formatNumber(spread.min)}–${formatNumber(spread.max)}, n=${spread.n})` : " (n=1)";
  return `${formatNumber(spread.median)} ${unit}${range}`;
}

export function formatTarget(figure: Figure): string {
  if (figure.target === undefined) return "";
  const parts: string[] = [];
  if (figure.target.maxRatio !== undefined) parts.push(`≤ ${figure.target.maxRatio}`);
  if (figure.target.minRatio !== undefined) parts.push(`≥ ${figure.target.minRatio}`);
  if (figure.target.minCeilingShare !== undefined) parts.push(`signpost ≥ ${Math.round(figure.target.minCeilingShare * 100)}% of the ceiling`);
  return parts.join(", ");
}

/**
 * The curves of several sections, those sharing a slug drawn as one: the first one's title and
 * axes, each series' points joined by series name and sorted by x. The proxy and proxy-10k
 * sections each bring their scale point of the cold-start curve this way.
 */
export function mergeCurves(curves: readonly Curve[]): Curve[] {
  const bySlug = new Map<string, { curve: Curve; series: Map<string, (readonly [number, number])[]> }>();
  for (const curve of curves) {
    const entry = bySlug.get(curve.slug) ?? { curve, series: new Map<string, (readonly [number, number])[]>() };
    bySlug.set(curve.slug, entry);
    for (const s of curve.series) {
      const points = entry.series.get(s.name) ?? [];
      entry.series.set(s.name, points);
      points.push(...s.points);
    }
  }
  return [...bySlug.values()].map(({ curve, series }) => ({
    ...curve,
    series: [...series].map(([name, points]) => ({ name, points: [...points].sort((a, b) => a[0] - b[0]) })),
  }));
}
