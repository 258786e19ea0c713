// EndpointSlices with endpoints the proxy will not use as backends: an endpoint whose address
// is special (loopback, link-local, unspecified, link-local multicast; see special-addresses.ts).
// The proxiers skip such an endpoint and program the rest; this tracker logs each slice by
// namespace/name with the fields at fault once, when it becomes a problem or its problems change.
import type { Logger } from "pino";
import { keyOf } from "../model/key.ts";
import type { EndpointSlice, ObjectKey } from "../model/types.ts";
import { specialAddressKind, specialAddressProblem } from "./special-addresses.ts";

/** The endpoints of a slice that are skipped, one line each; empty when all are usable. */
export function sliceProblems(slice: EndpointSlice): string[] {
  if (slice.addressType === "FQDN") return [];
  const problems: string[] = [];
  slice.endpoints.forEach((ep, i) => {
    // kube-proxy uses an endpoint's first address only.
    const first = ep.addresses[0] ?? "";
    const kind = specialAddressKind(first);
    if (kind !== null) problems.push(specialAddressProblem(`endpoints[${i}].addresses[0]`, first, kind));
  });
  return problems;
}

export class SliceProblems {
  readonly #log: Logger;
  readonly #current = new Map<ObjectKey, string>();

  constructor(log: Logger) {
    this.#log = log;
  }

  update(previous: EndpointSlice | null, current: EndpointSlice | null): void {
    const slice = current ?? previous;
    if (slice === null) return;
    const key = keyOf(slice);
    const problems = current === null ? [] : sliceProblems(current);
    const now = problems.join("; ");
    if (problems.length === 0) {
      if (this.#current.has(key) && current !== null) this.#log.info({ endpointSlice: key }, `endpoint slice ${key} has no skipped endpoint any more`);
      this.#current.delete(key);
    } else if (this.#current.get(key) !== now) {
      this.#current.set(key, now);
      this.#log.warn({ endpointSlice: key, problems }, `endpoint slice ${key}: ${now}; its other endpoints are programmed`);
    }
  }

  get size(): number {
    return this.#current.size;
  }
}
