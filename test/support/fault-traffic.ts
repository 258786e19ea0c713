// What the fault suite (test/e2e/faults-*.test.ts) shares: clients that keep sending while a fault happens and count
// what failed, phase by phase; long-lived TCP and UDP clients run in a pod's network namespace;
// the nat table as a comparable set of rules; a daemon's metrics; and the one line (plus a JSON
// record in $TMPDIR/fault-counts.jsonl) that each fault reports its counts with.
import { appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { inNetns } from "./local-cluster.ts";

/** One attempt of a client: null when it succeeded, else what went wrong. */
export type Attempt = () => Promise<string | null>;

export interface PhaseCounts {
  sent: number;
  failed: number;
  /** The phase's first three failures. */
  readonly firstFailures: string[];
}

export interface Counts {
  readonly what: string;
  sent: number;
  failed: number;
  readonly byPhase: Map<string, PhaseCounts>;
  /** When the first failure happened, and when the first success after the last failure did. */
  firstFailureAt: number | null;
  lastFailureAt: number | null;
  recoveredAt: number | null;
}

/**
 * Runs `attempt` one at a time, `intervalMs` apart, until stopped or `maxMs` has passed, counting
 * failures per phase (the test moves the phase on as it breaks things).
 */
export class CountingClient {
  readonly counts: Counts;
  readonly done: Promise<Counts>;
  #phase = "before";
  #stopped = false;

  constructor(what: string, attempt: Attempt, maxMs: number, intervalMs = 100) {
    this.counts = { what, sent: 0, failed: 0, byPhase: new Map(), firstFailureAt: null, lastFailureAt: null, recoveredAt: null };
    this.done = this.#loop(attempt, maxMs, intervalMs);
  }

  set phase(p: string) {
    this.#phase = p;
  }

  /** Attempts made in a phase so far. */
  sentIn(phase: string): number {
    return this.counts.byPhase.get(phase)?.sent ?? 0;
  }

  /** Waits until `n` more attempts have been made (or the deadline passes: the client may have ended). */
  async more(n: number, timeoutMs = 30_000): Promise<void> {
    const want = this.counts.sent + n;
    const deadline = Date.now() + timeoutMs;
    while (this.counts.sent < want && Date.now() < deadline && !this.#stopped) await sleep(50);
  }

  async stop(): Promise<Counts> {
    this.#stopped = true;
    return this.done;
  }

  async #loop(attempt: Attempt, maxMs: number, intervalMs: number): Promise<Counts> {
    const deadline = Date.now() + maxMs;
    while (!this.#stopped && Date.now() < deadline) {
      const phase = this.#phase;
      let failure: string | null;
      try {
        failure = await attempt();
      } catch (err) {
        failure = String(err);
      }
      const c = this.counts;
      const now = Date.now();
      c.sent++;
      const p = c.byPhase.get(phase) ?? { sent: 0, failed: 0, firstFailures: [] };
      p.sent++;
      if (failure !== null) {
        c.failed++;
        p.failed++;
        c.firstFailureAt ??= now;
        c.lastFailureAt = now;
        c.recoveredAt = null;
        if (p.firstFailures.length < 3) p.firstFailures.push(failure.slice(0, 240));
      } else if (c.lastFailureAt !== null && c.recoveredAt === null) {
        c.recoveredAt = now;
      }
      c.byPhase.set(phase, p);
      await sleep(intervalMs);
    }
    return this.counts;
  }
}

/** "sent=N failed=M (phase: f/s, ...)" and the first failures, for messages and the report line. */
export function describeCounts(c: Counts, phaseFirst?: string): string {
  const phases = [...c.byPhase].map(([k, v]) => `${k}: ${v.failed}/${v.sent}`).join(", ");
  const ordered = [...c.byPhase].sort(([a], [b]) => Number(b === phaseFirst) - Number(a === phaseFirst));
  const failures = ordered.flatMap(([k, v]) => v.firstFailures.map((f) => `[${k}] ${f}`));
  const notes = failures.length > 0 ? `; first failures: ${failures.join(" | ")}` : "";
  return `${c.what}: sent=${c.sent} failed=${c.failed} (${phases})${notes}`;
}

/** Milliseconds from the first failure to the first success after the last one; null if none failed or it never recovered. */
export function recoveredAfterMs(c: Counts): number | null {
  return c.firstFailureAt === null || c.recoveredAt === null ? null : c.recoveredAt - c.firstFailureAt;
}

/** Counts as plain data for the JSON record. */
export function countsJson(c: Counts): Record<string, unknown> {
  return {
    what: c.what, sent: c.sent, failed: c.failed, recoveredAfterMs: recoveredAfterMs(c),
    byPhase: Object.fromEntries([...c.byPhase].map(([k, v]) => [k, { sent: v.sent, failed: v.failed }])),
    firstFailures: [...c.byPhase].flatMap(([k, v]) => v.firstFailures.map((f) => `[${k}] ${f}`)),
  };
}

/** Prints `[fault] NAME: SUMMARY` to stderr and appends the record to $TMPDIR/fault-counts.jsonl. */
export function reportFault(name: string, summary: string, data: Record<string, unknown>): void {
  process.stderr.write(`[fault] ${name}: ${summary}\n`);
  const file = join(process.env["TMPDIR"] ?? tmpdir(), "fault-counts.jsonl");
  appendFileSync(file, `${JSON.stringify({ fault: name, summary, at: new Date().toISOString(), ...data })}\n`);
}

/** An HTTP attempt with curl from a network namespace (a new connection each time); success is status 200. */
export function httpAttempt(netns: string, url: string, maxSeconds = 3): Attempt {
  return async () => {
    const r = await inNetns(netns, "curl", ["-s", "-o", "/dev/null", "-m", String(maxSeconds), "-w", "%{http_code} from port %{local_port}, connected after %{time_connect} s, ended after %{time_total} s", url], (maxSeconds + 7) * 1000);
    const [status = ""] = r.stdout.split(" ", 1);
    return r.exitCode === 0 && status === "200" ? null : `curl ${url}: exit ${r.exitCode}, status ${r.stdout || "none"}`;
  };
}

/**
 * A DNS attempt as a glibc resolver makes it: up to three tries a second apart (dig +tries=3
 * +time=1); success is NOERROR with `want` among the A records of `name`.
 */
export function digAttempt(netns: string, server: string, name: string, want: string): Attempt {
  return async () => {
    const r = await inNetns(netns, "dig", ["+tries=3", "+time=1", `@${server}`, name, "A"], 15_000);
    const answered = r.exitCode === 0 && r.stdout.includes("status: NOERROR") && r.stdout.split("\n").some((l) => l.startsWith(name) && l.trim().endsWith(want));
    return answered ? null : `dig ${name}: exit ${r.exitCode}: ${r.stdout.split("\n").filter((l) => l.startsWith(";;")).slice(0, 3).join(" / ")}`;
  };
}

/** The nat table of a namespace as a sorted list of rules and chains, without counters or comments lines. */
export async function natRules(netns: string): Promise<string[]> {
  const r = await inNetns(netns, "iptables-save", ["-t", "nat"]);
  if (r.exitCode !== 0) throw new Error(`iptables-save in ${netns}: exit ${r.exitCode}`);
  return r.stdout
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#") && l !== "*nat" && l !== "COMMIT")
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ""))
    .sort();
}

/** Lines in one list and not the other, both ways, for a readable assertion message. */
export function ruleDiff(before: readonly string[], after: readonly string[]): { lost: string[]; added: string[] } {
  const b = new Set(before);
  const a = new Set(after);
  return { lost: before.filter((l) => !a.has(l)), added: after.filter((l) => !b.has(l)) };
}

/** Rules that appear more than once (a duplicate rule would be a bug). */
export function duplicates(rules: readonly string[]): string[] {
  return rules.filter((l, i) => i > 0 && l === rules[i - 1] && l.startsWith("-A"));
}

/** A daemon's Prometheus text from the harness; "" when it does not answer. */
export async function metricsText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.text() : "";
  } catch {
    return "";
  }
}

/**
 * signpost-proxy's Prometheus text, read inside its node's network namespace: /metrics listens
 * on 127.0.0.1:10249 there, as kube-proxy's does; "" when it does not answer.
 */
export async function proxyMetricsText(nodeNetns: string): Promise<string> {
  const r = await inNetns(nodeNetns, "curl", ["-s", "-f", "-m", "3", "http://127.0.0.1:10249/metrics"]);
  return r.exitCode === 0 ? r.stdout : "";
}

/** The sum of every sample of a metric whose labels contain all of `labels` (e.g. 'reason="gone"'). */
export function metricValue(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    sum += Number(line.split(/\s+/).at(-1) ?? "0");
  }
  return sum;
}

/** Status of a GET from the harness, 0 when nothing answers. */
export async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * A helper script (test/support/fault-*-client.ts) running in a network namespace, its stdout
 * collected line by line.
 */
export class NetnsScript {
  readonly lines: string[] = [];
  readonly #child: ResultPromise;

  constructor(netns: string, script: string, args: readonly string[]) {
    const path = join(import.meta.dirname, script);
    this.#child = execa("ip", ["netns", "exec", netns, process.execPath, "--disable-warning=ExperimentalWarning", path, ...args], { reject: false, stdin: "ignore", forceKillAfterDelay: 2000 });
    const out = this.#child.stdout;
    if (out !== null) createInterface({ input: out }).on("line", (l) => this.lines.push(l));
  }

  async stop(): Promise<void> {
    this.#child.kill("SIGTERM");
    await this.#child;
  }
}
