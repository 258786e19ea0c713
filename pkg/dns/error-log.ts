// The error log, as CoreDNS's `errors` plugin: one line per query that failed upstream
// ("www.example.org. A: upstream 10.0.0.1:53 timed out"), except that errors matching a
// `consolidate` pattern are counted and written as one line per period ("12 errors like
// 'timed out$' occurred in the last 5m0s"), and that the lines written directly are bounded by
// the log's budget of lines a second, so an upstream outage under a flood of queries writes a
// bounded log. Settings reload live: counts pending under the old ones are written first.
import type { Logger } from "pino";
import type { Forward } from "./cname-chase.ts";
import type { Consolidation, LogSettings } from "./config/log-config.ts";
import { LogBudget } from "./log-budget.ts";
import { typeName } from "./query-log.ts";
import { errorMessage } from "../errors/error-message.ts";

export interface ErrorLogOptions {
  /** Milliseconds, monotonic, for the budget; performance.now by default. */
  readonly now?: () => number;
}

interface Pending {
  readonly rule: Consolidation;
  count: number;
  readonly timer: NodeJS.Timeout;
}

export class ErrorLog {
  readonly #log: Logger;
  readonly #budget: LogBudget;
  #pending: readonly Pending[] = [];

  constructor(log: Logger, settings: LogSettings, options: ErrorLogOptions = {}) {
    this.#log = log;
    this.#budget = new LogBudget(settings.rate, options.now);
    this.configure(settings);
  }

  get dropped(): number {
    return this.#budget.dropped;
  }

  configure(settings: LogSettings): void {
    this.close();
    this.#budget.setRate(settings.rate);
    this.#pending = settings.consolidate.map((rule) => {
      const pending: Pending = { rule, count: 0, timer: setInterval(() => this.#flush(pending), rule.periodMs) };
      pending.timer.unref();
      return pending;
    });
  }

  /** One query's error, as "NAME. TYPE: why". */
  report(text: string): void {
    const rule = this.#pending.find((p) => p.rule.pattern.test(text));
    if (rule !== undefined) {
      rule.count++;
      return;
    }
    const missed = this.#budget.take();
    if (missed === null) return;
    if (missed > 0) this.#log.warn({ dropped: missed }, "error log lines dropped: over log.rate");
    this.#log.error({ error: text }, "query failed");
  }

  /** Writes what is pending and stops the timers. */
  close(): void {
    for (const pending of this.#pending) {
      clearInterval(pending.timer);
      this.#flush(pending);
    }
    this.#pending = [];
  }

  #flush(pending: Pending): void {
    if (pending.count === 0) return;
    const { rule, count } = pending;
    pending.count = 0;
    const level = rule.level === "warning" ? "warn" : rule.level;
    this.#log[level]({ count, pattern: rule.pattern.source, periodMs: rule.periodMs }, `${count} errors like '${rule.pattern.source}' occurred in the last ${rule.periodMs / 1000}s`);
  }
}

/** `forward` whose failures are reported to `errors` before they become SERVFAIL. */
export function reportingErrors(forward: Forward, errors: ErrorLog): Forward {
  return (request) => {
    const answer = forward(request);
    if (!(answer instanceof Promise)) return answer;
    return answer.catch((err: unknown) => {
      errors.report(`${request.name}. ${typeName(request.qtype)}: ${errorMessage(err)}`);
      throw err;
    });
  };
}
