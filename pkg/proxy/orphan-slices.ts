// EndpointSlices that no Service of this proxy claims: one without the kubernetes.io/service-name
// label, or one naming a Service that does not exist (yet). The API server accepts both, and the
// proxiers simply find nothing to program; this tracker logs each such slice by name once, after
// a sync, so the brief window in which a slice arrives before its Service is not reported.
import type { Logger } from "pino";
import { keyOf, serviceKeyOf } from "../model/key.ts";
import type { EndpointSlice, ObjectKey, Service } from "../model/types.ts";

/** Why a slice is not programmed; null when its Service exists. */
type Orphaned = string | null;

export class OrphanSlices {
  readonly #log: Logger;
  readonly #services = new Set<ObjectKey>();
  /** slice key -> the Service key it names ("" when it names none). */
  readonly #slices = new Map<ObjectKey, ObjectKey>();
  /** slice key -> the reason last logged. */
  readonly #reported = new Map<ObjectKey, string>();

  constructor(log: Logger) {
    this.#log = log;
  }

  onService(previous: Service | null, current: Service | null): void {
    if (previous !== null) this.#services.delete(keyOf(previous));
    if (current !== null) this.#services.add(keyOf(current));
  }

  onSlice(previous: EndpointSlice | null, current: EndpointSlice | null): void {
    if (previous !== null) {
      const key = keyOf(previous);
      this.#slices.delete(key);
      if (current === null) this.#reported.delete(key);
    }
    if (current !== null) {
      this.#slices.set(keyOf(current), serviceKeyOf(current) ?? "");
    }
  }

  #reason(service: ObjectKey): Orphaned {
    if (service === "") return "it has no kubernetes.io/service-name label";
    if (!this.#services.has(service)) return `its Service ${service} does not exist`;
    return null;
  }

  /** Logs the slices that became orphans, or stopped being ones, since the last call. */
  report(): void {
    for (const [slice, service] of this.#slices) {
      const reason = this.#reason(service);
      const before = this.#reported.get(slice);
      if (reason === null) {
        if (before !== undefined) this.#log.info({ endpointSlice: slice, service }, `endpoint slice ${slice} now has its Service ${service}`);
        this.#reported.delete(slice);
      } else if (before !== reason) {
        this.#reported.set(slice, reason);
        this.#log.warn({ endpointSlice: slice, service: service === "" ? undefined : service, reason }, `endpoint slice ${slice} is not programmed: ${reason}`);
      }
    }
  }

  /** The slices currently reported, for tests. */
  get size(): number {
    return this.#reported.size;
  }
}
