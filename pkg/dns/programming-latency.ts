// DNS programming latency, as kube-proxy measures network programming latency: from the change
// that triggered an EndpointSlice update (its last-change-trigger-time annotation, written by the
// EndpointSlice controller with nanoseconds) to the moment the record store has applied that
// slice. The store is read synchronously by every query and a change moves the answer cache's
// generation at once, so the next answer after the apply reflects the change: the apply is the
// "first answer that reflects it" without waiting for a query to come. Services have no such
// time (creationTimestamp and managedFields are whole seconds, an error as large as the
// histogram's first buckets), so they are not observed on their own; their Pods' and their own
// changes reach DNS through their slices' trigger times.
import { Histogram, type Registry } from "prom-client";
import { PROGRAMMING_LATENCY_BUCKETS } from "../kube/trigger-time.ts";

export interface ProgrammingLatencyOptions {
  /** Milliseconds since the epoch; Date.now by default. */
  readonly now?: () => number;
}

export class ProgrammingLatency {
  readonly #now: () => number;
  /** Changes made before this daemon started are not its latency (kube-proxy skips them too). */
  readonly #startedMs: number;
  readonly #histogram: Histogram;

  constructor(registry: Registry, options: ProgrammingLatencyOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#startedMs = this.#now();
    this.#histogram = new Histogram({
      name: "signpost_dns_programming_duration_seconds",
      help: "Time from the change that triggered an EndpointSlice update (its endpoints.kubernetes.io/last-change-trigger-time) to signpost-dns answering from it.",
      buckets: [...PROGRAMMING_LATENCY_BUCKETS],
      registers: [registry],
    });
  }

  /**
   * A slice was added or updated and the store has applied it. Observed once per trigger time:
   * an update that keeps the previous trigger time (a label edited by hand, a relist) was not
   * caused by a new change, and a slice without the annotation says nothing.
   */
  sliceApplied(previousTriggerMs: number | undefined, triggerMs: number | undefined): void {
    if (triggerMs === undefined || triggerMs === previousTriggerMs || triggerMs < this.#startedMs) return;
    this.#histogram.observe(Math.max(0, this.#now() - triggerMs) / 1000);
  }
}
