// Where the forward cache keeps its entries: one least-recently-used map per type (success,
// denial), each within its capacity in entries, and both together within a byte bound and an
// entry bound; past the shared bounds the least recently used of the two maps' oldest goes.
// An entry's memory is given back as soon as it leaves (its backing store is detached).
import type { CacheType } from "./cache-policy.ts";

/** What the store needs of an entry; the cache keeps the rest. */
export interface StoredEntry {
  readonly type: CacheType;
  /** The response bytes (a buffer of its own, never a slice of a shared pool). */
  readonly data: Buffer;
  /** Bytes charged against maxBytes. */
  readonly cost: number;
  /** When it was last used, to pick the least recently used of both types. */
  usedAt: number;
}

export interface StoreBounds {
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly capacity: Readonly<Record<CacheType, number>>;
}

/** A response larger than this share of the byte bound is not kept: one must not flush the rest. */
const LARGEST_SHARE = 16;

export class ForwardCacheStore<E extends StoredEntry> {
  readonly #maps: Record<CacheType, Map<string, E>> = { success: new Map(), denial: new Map() };
  readonly #bounds: StoreBounds;
  readonly #evicted: Record<CacheType, number> = { success: 0, denial: 0 };
  #bytes = 0;

  constructor(bounds: StoreBounds) {
    this.#bounds = bounds;
  }

  get size(): number {
    return this.#maps.success.size + this.#maps.denial.size;
  }

  count(type: CacheType): number {
    return this.#maps[type].size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  evictions(type: CacheType): number {
    return this.#evicted[type];
  }

  get(key: string): E | undefined {
    return this.#maps.success.get(key) ?? this.#maps.denial.get(key);
  }

  /** Marks `entry` (stored under `key`) as used at `now`: the last to be evicted. */
  touch(key: string, entry: E, now: number): void {
    entry.usedAt = now;
    const map = this.#maps[entry.type];
    map.delete(key);
    map.set(key, entry);
  }

  /** Stores `entry` in place of any under `key`, then evicts until every bound holds. */
  set(key: string, entry: E): void {
    const old = this.get(key);
    if (old !== undefined) this.delete(key, old);
    if (entry.cost > this.#bounds.maxBytes / LARGEST_SHARE) return;
    this.#maps[entry.type].set(key, entry);
    this.#bytes += entry.cost;
    const { success, denial } = this.#maps;
    while (success.size > this.#bounds.capacity.success) this.#evict("success");
    while (denial.size > this.#bounds.capacity.denial) this.#evict("denial");
    while (this.#bytes > this.#bounds.maxBytes || this.size > this.#bounds.maxEntries) {
      const a = success.values().next();
      const b = denial.values().next();
      if (a.done === true && b.done === true) break;
      this.#evict(b.done === true || (a.done !== true && a.value.usedAt <= b.value.usedAt) ? "success" : "denial");
    }
  }

  delete(key: string, entry: E): void {
    this.#maps[entry.type].delete(key);
    this.#bytes -= entry.cost;
    // Nothing outside holds the data (the cache hands out copies), so its memory is given back
    // now: left to the garbage collector, evicted 60 KB answers wait as old-generation garbage
    // for the next full collection, which a flood of distinct large answers makes tens of MiB.
    const { buffer } = entry.data;
    if (buffer instanceof ArrayBuffer) buffer.transfer(0);
  }

  clear(): void {
    this.#maps.success.clear();
    this.#maps.denial.clear();
    this.#bytes = 0;
  }

  #evict(type: CacheType): void {
    const oldest = this.#maps[type].entries().next();
    if (oldest.done === true) return;
    this.delete(oldest.value[0], oldest.value[1]);
    this.#evicted[type]++;
  }
}
