// Which queries the query log writes: those whose answer is in one of the configured classes
// (CoreDNS's `log { class success denial error }`), within the log's budget of lines a second.
// It looks at the response's header only, before the query is decoded for its line, so queries
// that are not written cost next to nothing, however many a client sends.
import type { LogClass, LogSettings } from "./config/log-config.ts";
import { LogBudget } from "./log-budget.ts";
import { family, rcodeOf } from "./metrics.ts";
import { RCODE } from "./records.ts";

/**
 * CoreDNS's classes: success is NOERROR with records; denial is NXDOMAIN, or NOERROR without
 * records (NODATA); error is every other rcode, and a query dropped without an answer.
 */
export function responseClass(response: Uint8Array | null): Exclude<LogClass, "all"> {
  if (response === null) return "error";
  const rcode = rcodeOf(response);
  if (rcode === RCODE.NXDOMAIN) return "denial";
  if (rcode !== RCODE.NOERROR) return "error";
  const answers = ((response[6] ?? 0) << 8) | (response[7] ?? 0);
  return answers > 0 ? "success" : "denial";
}

export class QueryLogGate {
  readonly #budget: LogBudget;
  #classes: ReadonlySet<LogClass>;

  constructor(settings: LogSettings, now?: () => number) {
    this.#budget = new LogBudget(settings.rate, now);
    this.#classes = new Set(settings.classes);
  }

  configure(settings: LogSettings): void {
    this.#budget.setRate(settings.rate);
    this.#classes = new Set(settings.classes);
  }

  get dropped(): number {
    return this.#budget.dropped;
  }

  /** null: do not write this query's line; else how many lines the budget refused before it. */
  admit(response: Uint8Array | null): number | null {
    if (!this.#classes.has("all") && !this.#classes.has(responseClass(response))) return null;
    return this.#budget.take();
  }
}

/** signpost_dns_log_dropped_total{log}: lines the query log and the error log did not write. */
export function logDroppedExposition(queries: number, errors: number): string {
  const out: string[] = [];
  family(out, "signpost_dns_log_dropped_total", "counter", "Log lines not written because the log's rate (log.rate lines a second) was exceeded.");
  out.push(`signpost_dns_log_dropped_total{log="queries"} ${queries}`, `signpost_dns_log_dropped_total{log="errors"} ${errors}`);
  return out.join("\n") + "\n";
}
