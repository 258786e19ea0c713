// Change trackers for Services and EndpointSlices, after kube-proxy's servicechangetracker.go and
// endpointschangetracker.go: watch handlers only record, each pending change keeps both sides
// ({previous, current}) per Service key, a change that ends where it started is dropped, and a
// drain hands back the set of Service keys that changed, which is what makes a partial sync work.
// The trackers keep the applied state themselves, so an update event that lost its old object
// cannot corrupt the "previous" side.

import { isDeepStrictEqual } from "node:util";
import { keyOf, objectKey } from "../model/key.ts";
import type { EndpointSlice, ObjectKey, Service } from "../model/types.ts";

export interface Change<T> {
  /** The state applied at the last drain; null when the key did not exist. */
  readonly previous: T | null;
  /** The state now; null when the key is gone. */
  readonly current: T | null;
}

export interface Drained<T> {
  /** Keys whose state differs from the last drain. */
  readonly changed: ReadonlySet<ObjectKey>;
  readonly changes: ReadonlyMap<ObjectKey, Change<T>>;
}

/**
 * A keyed store of applied values plus the pending changes since the last drain. The equality
 * test decides when a change "ends where it started"; model objects are plain data, so deep
 * equality is the right default.
 */
export class KeyedChangeTracker<T> {
  readonly #applied = new Map<ObjectKey, T>();
  readonly #pending = new Map<ObjectKey, T | null>();
  readonly #equal: (a: T, b: T) => boolean;

  constructor(equal: (a: T, b: T) => boolean = isDeepStrictEqual) {
    this.#equal = equal;
  }

  /** Records that key now holds value (null: deleted). Returns whether anything is pending. */
  set(key: ObjectKey, value: T | null): boolean {
    const applied = this.#applied.get(key) ?? null;
    if (this.#same(applied, value)) this.#pending.delete(key);
    else this.#pending.set(key, value);
    return this.#pending.size > 0;
  }

  /** The value as of the last drain, ignoring pending changes. */
  applied(key: ObjectKey): T | null {
    return this.#applied.get(key) ?? null;
  }

  /** The value with pending changes applied. */
  current(key: ObjectKey): T | null {
    return this.#pending.has(key) ? (this.#pending.get(key) ?? null) : this.applied(key);
  }

  appliedEntries(): IterableIterator<[ObjectKey, T]> {
    return this.#applied.entries();
  }

  /** How many objects have changes not yet drained; O(1), so it can be read on every event. */
  pendingCount(): number {
    return this.#pending.size;
  }

  hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /** Applies every pending change and returns them. */
  drain(): Drained<T> {
    const changes = new Map<ObjectKey, Change<T>>();
    for (const [key, current] of this.#pending) {
      changes.set(key, { previous: this.#applied.get(key) ?? null, current });
      if (current === null) this.#applied.delete(key);
      else this.#applied.set(key, current);
    }
    this.#pending.clear();
    return { changed: new Set(changes.keys()), changes };
  }

  #same(a: T | null, b: T | null): boolean {
    if (a === null || b === null) return a === b;
    return this.#equal(a, b);
  }
}

/** Tracks Services by namespace/name. */
export class ServiceChangeTracker {
  readonly #tracker = new KeyedChangeTracker<Service>();

  /**
   * Records a watch event: (null, svc) for an add, (old, svc) for an update, (svc, null) for a
   * delete. The previous object only supplies the key; the tracker's own applied state is the
   * "previous" side of the change.
   */
  update(previous: Service | null, current: Service | null): boolean {
    const svc = current ?? previous;
    if (svc === null) return this.#tracker.hasPending();
    return this.#tracker.set(keyOf(svc), current);
  }

  pendingCount(): number {
    return this.#tracker.pendingCount();
  }

  /** Applies pending changes; the result names every Service whose object changed. */
  drain(): Drained<Service> {
    return this.#tracker.drain();
  }

  /** A Service as of the last drain. */
  get(key: ObjectKey): Service | null {
    return this.#tracker.applied(key);
  }

  /** Every Service as of the last drain. */
  services(): Iterable<Service> {
    return [...this.#tracker.appliedEntries()].map(([, svc]) => svc);
  }
}

/** The EndpointSlices of one Service, keyed by slice name. */
export type SliceGroup = ReadonlyMap<string, EndpointSlice>;

/**
 * Tracks EndpointSlices grouped by the Service they belong to (label kubernetes.io/service-name).
 * A change is recorded per slice but judged per group, so a burst of slice events that leaves the
 * group as it was drops out.
 */
export class EndpointSliceChangeTracker {
  readonly #applied = new Map<ObjectKey, Map<string, EndpointSlice>>();
  readonly #pending = new Map<ObjectKey, Map<string, EndpointSlice | null>>();

  /** Records a watch event, as ServiceChangeTracker.update does. Slices of no Service are ignored. */
  update(previous: EndpointSlice | null, current: EndpointSlice | null): boolean {
    // A slice moved to another Service (the label changed) leaves the old group.
    if (previous !== null && previous.serviceName !== "") {
      const moved = current === null || current.serviceName !== previous.serviceName;
      if (moved) this.#record(previous, null);
    }
    if (current !== null && current.serviceName !== "") this.#record(current, current);
    return this.#pending.size > 0;
  }

  /** How many objects have changes not yet drained; O(1), so it can be read on every event. */
  pendingCount(): number {
    return this.#pending.size;
  }

  /** Applies pending changes; previous and current are whole groups, sorted by slice name. */
  drain(): Drained<readonly EndpointSlice[]> {
    const changes = new Map<ObjectKey, Change<readonly EndpointSlice[]>>();
    for (const [key, edits] of this.#pending) {
      const before = this.#applied.get(key);
      const after = applyEdits(before, edits);
      changes.set(key, {
        previous: before === undefined ? null : sortedSlices(before),
        current: after.size === 0 ? null : sortedSlices(after),
      });
      if (after.size === 0) this.#applied.delete(key);
      else this.#applied.set(key, after);
    }
    this.#pending.clear();
    return { changed: new Set(changes.keys()), changes };
  }

  /** The slices of a Service as of the last drain, sorted by name. */
  slicesFor(serviceKey: ObjectKey): readonly EndpointSlice[] {
    const group = this.#applied.get(serviceKey);
    return group === undefined ? [] : sortedSlices(group);
  }

  #record(slice: EndpointSlice, value: EndpointSlice | null): void {
    const key = objectKey(slice.namespace, slice.serviceName);
    const edits = this.#pending.get(key) ?? new Map<string, EndpointSlice | null>();
    edits.set(slice.name, value);
    const before = this.#applied.get(key);
    const after = applyEdits(before, edits);
    if (sameGroup(before, after)) this.#pending.delete(key);
    else this.#pending.set(key, edits);
  }
}

function applyEdits(
  base: ReadonlyMap<string, EndpointSlice> | undefined,
  edits: ReadonlyMap<string, EndpointSlice | null>,
): Map<string, EndpointSlice> {
  const out = new Map(base ?? []);
  for (const [name, slice] of edits) {
    if (slice === null) out.delete(name);
    else out.set(name, slice);
  }
  return out;
}

function sameGroup(a: ReadonlyMap<string, EndpointSlice> | undefined, b: ReadonlyMap<string, EndpointSlice>): boolean {
  const left = a ?? new Map<string, EndpointSlice>();
  if (left.size !== b.size) return false;
  for (const [name, slice] of left) {
    const other = b.get(name);
    if (other === undefined || !isDeepStrictEqual(slice, other)) return false;
  }
  return true;
}

function sortedSlices(group: ReadonlyMap<string, EndpointSlice>): readonly EndpointSlice[] {
  return [...group.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}
