// The shape every benchmark section writes (BENCH_OUT/<section>.json) and report.ts turns into
// docs/benchmarks.md: figures as raw samples for both contestants, so the report computes the
// medians, spreads and ratios in one place, and curves for the plots. A contestant that could
// not be built or started has `null` samples and a note saying why; nothing is ever invented.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Figure {
  /** Groups rows in the report, e.g. "proxy, 10,000 Services" or "DNS, cluster names". */
  readonly group: string;
  /** What was measured, e.g. "cold start", "queries/s at saturation", "p99 latency". */
  readonly name: string;
  /** "s", "ms", "q/s", "MiB", "CPU s", "rules", "bytes". */
  readonly unit: string;
  /** "neither" for a figure that explains others (how many syncs bought a CPU figure): no verdict. */
  readonly better: "lower" | "higher" | "neither";
  /** One value per repetition; null when signpost could not be measured (say why in note). */
  readonly signpost: readonly number[] | null;
  /** One value per repetition; null when the opponent could not be built or run. */
  readonly opponent: readonly number[] | null;
  /** e.g. "kube-proxy v1.36.3 (iptables)", "CoreDNS v1.15.0". */
  readonly opponentName: string;
  /** The exact commands run to get this figure, printed by the script too. */
  readonly commands: readonly string[];
  readonly note?: string;
  /**
   * The machine's limit for this figure, measured in the same run (the DNS section's UDP
   * responder): the report shows each contestant's median as a share of its median.
   */
  readonly ceiling?: { readonly name: string; readonly samples: readonly number[] | null };
  /** The goal for this figure as a ratio signpost/opponent, e.g. { maxRatio: 0.5 }. */
  readonly target?: { readonly maxRatio?: number; readonly minRatio?: number; readonly minCeilingShare?: number };
}

export interface CurveSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Curve {
  /**
   * A file-name slug: the plot is written to docs/bench/<slug>.svg. Curves of several sections
   * with one slug are drawn as one, their series joined by name (mergeCurves in summary.ts).
   */
  readonly slug: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly CurveSeries[];
}

export interface SectionResults {
  readonly section: "proxy" | "proxy-10k" | "proxy-30k" | "proxy-nft" | "dns" | "nodelocal";
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Component name to version, e.g. { "kube-proxy": "v1.36.3", "signpost": "0.1.0 (abc1234)" }. */
  readonly versions: Readonly<Record<string, string>>;
  readonly figures: readonly Figure[];
  readonly curves: readonly Curve[];
}

export function benchOutDir(): string {
  return process.env["BENCH_OUT"] ?? join(import.meta.dirname, "..", "..", "docs", "bench-results");
}

export function writeSectionResults(results: SectionResults): string {
  const dir = benchOutDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${results.section}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/** Prints the command behind a figure as the issue asks, and returns it for the figure's record. */
export function announceCommand(command: string): string {
  process.stderr.write(`[bench] $ ${command}\n`);
  return command;
}
