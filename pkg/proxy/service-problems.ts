// Services this node cannot program in whole or in part (a port on a protocol the kernel lacks,
// cluster IPs of a family this node does not serve): each is logged once with its name and
// reasons when it becomes a problem or its reasons change, and counted in a gauge. The
// proxiers leave out what cannot be programmed and program the rest.
import type { Logger } from "pino";
import { keyOf } from "../model/key.ts";
import type { ObjectKey, Service } from "../model/types.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import type { NodeCapabilities } from "./service-ports.ts";
import { programmingProblems } from "./service-ports.ts";

export class ServiceProblems {
  readonly #caps: NodeCapabilities;
  readonly #log: Logger;
  readonly #metrics: ProxyMetrics;
  readonly #current = new Map<ObjectKey, string>();

  constructor(caps: NodeCapabilities, log: Logger, metrics: ProxyMetrics) {
    this.#caps = caps;
    this.#log = log;
    this.#metrics = metrics;
  }

  update(previous: Service | null, current: Service | null): void {
    const svc = current ?? previous;
    if (svc === null) return;
    const key = keyOf(svc);
    const problems = current === null ? [] : programmingProblems(current, this.#caps);
    const before = this.#current.get(key);
    const now = problems.join("; ");
    if (problems.length === 0) {
      if (before !== undefined) this.#log.info({ service: key }, "service can be programmed in full again");
      this.#current.delete(key);
    } else if (before !== now) {
      this.#current.set(key, now);
      this.#log.warn({ service: key, problems }, `service ${key} cannot be programmed in full: ${now}; the rest of it is programmed`);
    }
    this.#metrics.unprogrammableServices(this.#current.size);
  }

  get size(): number {
    return this.#current.size;
  }
}
