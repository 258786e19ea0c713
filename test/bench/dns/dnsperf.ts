// Runs dnsperf 2.x on core 1 against one server and reads its results: the summary (queries/s,
// completed, lost, response codes) always, and with `latencies` every query's own latency from
// its verbose output ("> NOERROR name A 0.000123"), so percentiles are exact rather than read
// off a histogram. A lost query counts as taking the whole timeout. dnsperf writes into a file
// that is read after it exits: reading its 5,000 lines a second as they came woke the bench's
// own process that often, on a core of the two the measurement uses.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { announceCommand } from "../results.ts";

export const DNSPERF_CORE = "1";
/** dnsperf's per-query timeout; a lost query is recorded with this latency. */
export const TIMEOUT_S = 5;

export interface DnsperfRun {
  readonly port: number;
  readonly file: string;
  readonly seconds: number;
  /** -Q: a fixed offered rate; saturation when absent. */
  readonly rate?: number;
  /** Keep every query's latency (dnsperf -v). */
  readonly latencies: boolean;
}

export interface DnsperfResult {
  readonly command: string;
  readonly qps: number;
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  /** dnsperf's own run time: from the first query sent to the last answer or time-out. */
  readonly runSeconds: number;
  /** e.g. { NOERROR: 7500, NXDOMAIN: 2500 } */
  readonly rcodes: Readonly<Record<string, number>>;
  /** Seconds, sorted ascending, lost ones as TIMEOUT_S; empty unless asked for. */
  readonly latencies: Float64Array;
}

/**
 * Saturation: 8 client sockets (as from several pods) with dnsperf's default of at most 100
 * queries outstanding, which keeps a single-core server busy. A fixed rate adds -Q.
 */
export function dnsperfArgs(run: DnsperfRun): string[] {
  const args = ["-c", DNSPERF_CORE, "dnsperf", "-s", "127.0.0.1", "-p", String(run.port), "-d", run.file, "-l", String(run.seconds), "-c", "8", "-T", "1", "-t", String(TIMEOUT_S)];
  if (run.rate !== undefined) args.push("-Q", String(run.rate));
  if (run.latencies) args.push("-v");
  return args;
}

function field(text: string, label: string): number {
  const m = new RegExp(`${label}:\\s+([0-9.]+)`).exec(text);
  if (m === null) throw new Error(`dnsperf printed no "${label}":\n${text}`);
  return Number(m[1]);
}

export async function dnsperf(run: DnsperfRun): Promise<DnsperfResult> {
  const args = dnsperfArgs(run);
  const command = announceCommand(`taskset ${args.join(" ")}`);
  const dir = mkdtempSync(join(tmpdir(), "dnsperf-"));
  const outFile = join(dir, "out");
  let code: number | null;
  let stderr = "";
  let output: string;
  try {
    const fd = openSync(outFile, "w");
    try {
      const child = spawn("taskset", args, { stdio: ["ignore", fd, "pipe"] });
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    } finally {
      closeSync(fd);
    }
    output = readFileSync(outFile, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const latencies: number[] = [];
  const summary: string[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith("> ")) {
      const latency = Number(line.slice(line.lastIndexOf(" ") + 1));
      latencies.push(Number.isFinite(latency) && !line.startsWith("> T ") ? latency : TIMEOUT_S);
    } else {
      summary.push(line);
    }
  }
  const text = summary.join("\n");
  if (code !== 0) throw new Error(`dnsperf exited with ${String(code)}: ${stderr}\n${text}`);
  const rcodes: Record<string, number> = {};
  const codesLine = /Response codes:\s+(.*)/.exec(text)?.[1] ?? "";
  for (const m of codesLine.matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1] ?? "?"] = Number(m[2]);
  const sent = field(text, "Queries sent");
  const completed = field(text, "Queries completed");
  const lost = field(text, "Queries lost");
  if (run.latencies) for (let i = latencies.length; i < sent; i++) latencies.push(TIMEOUT_S);
  const sorted = Float64Array.from(latencies).sort();
  return { command, qps: field(text, "Queries per second"), sent, completed, lost, runSeconds: field(text, "Run time \\(s\\)"), rcodes, latencies: sorted };
}

/** Nearest-rank percentile of ascending values; q in [0, 1]. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * The latency CDF as plot points: (milliseconds, fraction of queries at or below), up to the
 * 99.5th percentile, so that a few outliers (a lost query counts as 5 s) do not flatten the plot
 * on its linear axis; the tail beyond is in the p99 figure and the notes.
 */
export function cdfPoints(sorted: Float64Array): [number, number][] {
  const qs: number[] = [];
  for (let q = 0.01; q < 0.995; q += 0.01) qs.push(q);
  qs.push(0.995);
  return qs.map((q) => [Number((percentile(sorted, q) * 1000).toFixed(4)), Number(q.toFixed(3))]);
}

export function rcodeSummary(rcodes: Readonly<Record<string, number>>): string {
  const total = Object.values(rcodes).reduce((a, b) => a + b, 0);
  return Object.entries(rcodes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((100 * v) / Math.max(1, total)).toFixed(1)}%`)
    .join(", ");
}
