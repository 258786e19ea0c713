// kube-proxy's health semantics (healthcheck/proxy_health.go): each IP family's proxier reports
// when a change is queued and when rules were programmed; the proxy is unhealthy only when a
// queued change has waited longer than the health timeout (twice the sync period) without a
// successful sync. It is healthy while starting up, before anything was queued.
import type { IPFamily } from "../../model/types.ts";
import type { Clock } from "../clock.ts";

export interface HealthStatus {
  readonly healthy: boolean;
  /** The last successful sync of any family, 0 when none yet. */
  readonly lastUpdated: number;
  readonly now: number;
}

export class ProxyHealth {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #lastUpdated = new Map<IPFamily, number>();
  readonly #oldestQueued = new Map<IPFamily, number>();

  constructor(clock: Clock, healthTimeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = healthTimeoutMs;
  }

  /** A change for this family's proxier was received and is not programmed yet. */
  queued(family: IPFamily): void {
    if (!this.#oldestQueued.has(family)) this.#oldestQueued.set(family, this.#clock.now());
  }

  /** This family's proxier programmed everything it had been told. */
  updated(family: IPFamily): void {
    this.#oldestQueued.delete(family);
    this.#lastUpdated.set(family, this.#clock.now());
  }

  status(): HealthStatus {
    const now = this.#clock.now();
    let lastUpdated = 0;
    for (const [family, updated] of this.#lastUpdated) {
      lastUpdated = Math.max(lastUpdated, updated);
      const queued = this.#oldestQueued.get(family);
      if (queued !== undefined && now - queued >= this.#timeoutMs) return { healthy: false, lastUpdated: updated, now };
    }
    // A family that never synced but has waited too long is unhealthy too.
    for (const [family, queued] of this.#oldestQueued) {
      if (!this.#lastUpdated.has(family) && now - queued >= this.#timeoutMs) return { healthy: false, lastUpdated, now };
    }
    return { healthy: true, lastUpdated, now };
  }
}

/** A time as Go's time.Time.String() prints it in UTC, which kube-proxy's JSON carries. */
export function goTimeString(ms: number): string {
  if (ms <= 0) return "0001-01-01 00:00:00 +0000 UTC";
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.999Z
  const [date = "", rest = ""] = iso.split("T");
  const [clock = "", fraction = ""] = rest.replace("Z", "").split(".");
  const frac = fraction.replace(/0+$/, "");
  return `${date} ${clock}${frac === "" ? "" : `.${frac}`} +0000 UTC`;
}
