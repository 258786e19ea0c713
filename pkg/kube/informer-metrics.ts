// Prometheus metrics for informers, registered on a registry the daemon hands in (never the
// global one), so each daemon and each test owns its own.
import { Counter, Gauge, type Registry } from "prom-client";
import type { InformerState } from "./informer.ts";

export interface InformerMetrics {
  state(informer: string, state: InformerState): void;
  restart(informer: string, reason: "gone" | "error"): void;
  handlerError(informer: string): void;
  invalidObject(informer: string): void;
  listed(informer: string, objects: number): void;
}

const states: readonly InformerState[] = ["starting", "listing", "watching", "backoff", "stopped"];

export function informerMetrics(registry: Registry, prefix = "signpost"): InformerMetrics {
  const state = new Gauge({
    name: `${prefix}_informer_state`,
    help: "1 for the state each informer is in (starting, listing, watching, backoff, stopped)",
    labelNames: ["informer", "state"],
    registers: [registry],
  });
  const restarts = new Counter({
    name: `${prefix}_informer_restarts_total`,
    help: "Lists and watches restarted, by reason: gone (410, relist) or error (backoff)",
    labelNames: ["informer", "reason"],
    registers: [registry],
  });
  const handlerErrors = new Counter({
    name: `${prefix}_informer_handler_errors_total`,
    help: "Event handlers that threw",
    labelNames: ["informer"],
    registers: [registry],
  });
  const invalid = new Counter({
    name: `${prefix}_informer_invalid_objects_total`,
    help: "Objects or watch lines ignored because they were malformed",
    labelNames: ["informer"],
    registers: [registry],
  });
  const objects = new Gauge({
    name: `${prefix}_informer_last_list_objects`,
    help: "Objects in the informer's most recent list",
    labelNames: ["informer"],
    registers: [registry],
  });
  return {
    state(informer, current) {
      for (const s of states) state.set({ informer, state: s }, s === current ? 1 : 0);
    },
    restart(informer, reason) {
      restarts.inc({ informer, reason });
    },
    handlerError(informer) {
      handlerErrors.inc({ informer });
    },
    invalidObject(informer) {
      invalid.inc({ informer });
    },
    listed(informer, n) {
      objects.set({ informer }, n);
    },
  };
}
