// Caches upstream answers by question, as CoreDNS's `cache` does: successes and denials each up
// to their capacity in entries and kept within their TTL range (cache-policy.ts; by default a
// success at most 30 s, a denial at most 5 s), a failure (SERVFAIL, or no upstream answering)
// 5 s (RFC 9520), and none longer than its own TTLs say. A hit is a copy of the stored bytes with
// every TTL aged to the time left. The cache is bounded by bytes as well as by entries: an
// upstream can answer up to 64 KiB a question, so a count alone lets a client that asks for many
// large names take all the daemon's memory. With `prefetch`, a popular entry near its expiry is
// handed out marked for a refresh; with `serveStale`, an expired entry is kept that much longer
// and handed out (RFC 8767, with a 30 s TTL) when the upstreams cannot answer.
import {
  type CacheCategory,
  type CacheType,
  classify,
  DEFAULT_FORWARD_CACHE_POLICY,
  FAILURE_RECHECK_MS,
  type PrefetchPolicy,
  type ServeStalePolicy,
  servfailFor,
  STALE_ANSWER_TTL,
} from "./cache-policy.ts";
import { ForwardCacheStore, type StoredEntry } from "./forward-cache-store.ts";
import { walkMessage } from "./message-walk.ts";
import type { ForwardRequest } from "./query-handler.ts";
import { TYPE } from "./records.ts";

export { cacheTtl, servfailFor, type CacheType } from "./cache-policy.ts";

export interface ForwardCacheOptions {
  /** Responses kept at most, both types together; their capacities' sum by default. */
  readonly maxEntries?: number;
  /** Bytes kept at most, counted by entryCost; DEFAULT_FORWARD_CACHE_BYTES (16 MiB) by default. */
  readonly maxBytes?: number;
  /** Shorthands for success.maxTtl and denial.maxTtl. */
  readonly successTtl?: number;
  readonly denialTtl?: number;
  readonly success?: CacheCategory;
  readonly denial?: CacheCategory;
  readonly prefetch?: PrefetchPolicy | null;
  readonly serveStale?: ServeStalePolicy | null;
  /** Seconds a failure is answered from the cache; 5 by default, 0 keeps none. */
  readonly servfailTtl?: number;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
}

export const DEFAULT_FORWARD_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * What an entry costs besides its response bytes and its key: the Map slot, the entry object
 * and the Buffer object with its backing store. Measured on Node 24 as heap plus external
 * growth over 50,000 entries: 585 bytes each.
 */
export const FORWARD_ENTRY_OVERHEAD = 600;

interface Entry extends StoredEntry {
  /** The response, then the 16-bit offset of each TTL to age (records other than OPT). */
  readonly data: Buffer;
  /** Length of the response within `data`. */
  readonly length: number;
  readonly storedAt: number;
  readonly expiresAt: number;
  /** Until when it may be served stale; expiresAt for a failure or without serveStale. */
  readonly staleUntil: number;
  /** Seconds it was stored for, the base of prefetch's percentage. */
  readonly ttl: number;
  /** A cached SERVFAIL: never served stale, never kept over a usable entry. */
  readonly failure: boolean;
  /** Hits in a row, each within prefetch's duration of the one before. */
  hits: number;
  /** No refresh is started for it before this time: one is in flight, or one failed lately. */
  refreshAfter: number;
}

/** A hit: the response with TTLs aged, and what the forwarder should do besides answering. */
export interface CacheHit {
  readonly response: Buffer;
  /** "prefetch": popular and near its expiry, refresh it now; "stale": expired, served per RFC 8767, refresh it. */
  readonly state: "fresh" | "prefetch" | "stale";
}

export class ForwardCache {
  readonly #store: ForwardCacheStore<Entry>;
  readonly #category: Record<CacheType, CacheCategory>;
  readonly #prefetch: PrefetchPolicy | null;
  readonly #serveStale: ServeStalePolicy | null;
  readonly #servfailTtl: number;
  readonly #now: () => number;
  #hits = 0;
  #denialHits = 0;
  #misses = 0;
  #prefetches = 0;
  #servedStale = 0;

  constructor(options: ForwardCacheOptions = {}) {
    const defaults = DEFAULT_FORWARD_CACHE_POLICY;
    this.#category = {
      success: options.success ?? { ...defaults.success, maxTtl: options.successTtl ?? defaults.success.maxTtl },
      denial: options.denial ?? { ...defaults.denial, maxTtl: options.denialTtl ?? defaults.denial.maxTtl },
    };
    const capacity = { success: this.#category.success.capacity, denial: this.#category.denial.capacity };
    this.#store = new ForwardCacheStore({ maxBytes: options.maxBytes ?? DEFAULT_FORWARD_CACHE_BYTES, maxEntries: options.maxEntries ?? capacity.success + capacity.denial, capacity });
    this.#prefetch = options.prefetch ?? null;
    this.#serveStale = options.serveStale ?? null;
    this.#servfailTtl = options.servfailTtl ?? 5;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#store.size;
  }

  /** Entries of one type. */
  count(type: CacheType): number {
    return this.#store.count(type);
  }

  /** Bytes held, as entryCost counts them; never above maxBytes. */
  get bytes(): number {
    return this.#store.bytes;
  }

  /** Lookups answered from the cache, for the cache_hits_total metric. */
  get hits(): number {
    return this.#hits;
  }

  /** The part of `hits` that were denials (NXDOMAIN, NODATA) or failures. */
  get denialHits(): number {
    return this.#denialHits;
  }

  get misses(): number {
    return this.#misses;
  }

  /** Refreshes of popular entries started, for coredns_cache_prefetch_total. */
  get prefetches(): number {
    return this.#prefetches;
  }

  /** Answers served from expired entries, for coredns_cache_served_stale_total. */
  get servedStale(): number {
    return this.#servedStale;
  }

  /** Entries dropped to make room, by CoreDNS's type, for coredns_cache_evictions_total. */
  evictions(type: CacheType): number {
    return this.#store.evictions(type);
  }

  /** Drops every entry: the upstreams changed (a reload), so their answers no longer stand. */
  clear(): void {
    this.#store.clear();
  }

  /** The cached response for `key` with TTLs aged, or null. Its ID is the upstream's. */
  get(key: string): Buffer | null {
    return this.lookup(key)?.response ?? null;
  }

  /**
   * The cached response for `key`, with what to do besides answering: refresh it (prefetch),
   * or it is served stale (RFC 8767, immediate mode, or while a failed refresh's recheck timer
   * runs). Null: ask the upstreams (in verify mode, `stale` answers if they fail).
   */
  lookup(key: string): CacheHit | null {
    const now = this.#now();
    const entry = this.#store.get(key);
    if (entry === undefined) {
      this.#misses++;
      return null;
    }
    if (now >= entry.expiresAt) {
      const servable = now < entry.staleUntil && this.#serveStale !== null;
      if (!servable) {
        if (now >= entry.staleUntil) this.#store.delete(key, entry);
        this.#misses++;
        return null;
      }
      if (this.#serveStale?.verify === true && now >= entry.refreshAfter) {
        this.#misses++;
        return null;
      }
      // Immediate mode, or verify while a failed refresh's recheck timer runs.
      const refresh = now >= entry.refreshAfter;
      if (refresh) entry.refreshAfter = now + FAILURE_RECHECK_MS;
      this.#hit(key, entry, now);
      this.#servedStale++;
      return { response: this.#copy(entry, now, true), state: refresh ? "stale" : "fresh" };
    }
    this.#hit(key, entry, now);
    const prefetch = this.#wantsPrefetch(entry, now);
    if (prefetch) entry.refreshAfter = now + FAILURE_RECHECK_MS;
    return { response: this.#copy(entry, now, false), state: prefetch ? "prefetch" : "fresh" };
  }

  /**
   * The expired entry for `key`, with the stale TTL, when it may still be served: the upstreams
   * failed to refresh it. Starts RFC 8767's failure recheck timer and counts a stale answer.
   */
  stale(key: string): Buffer | null {
    const now = this.#now();
    const entry = this.#store.get(key);
    if (entry === undefined || this.#serveStale === null) return null;
    if (entry.failure || now >= entry.staleUntil || now < entry.expiresAt) return null;
    entry.refreshAfter = now + FAILURE_RECHECK_MS;
    this.#hit(key, entry, now);
    this.#servedStale++;
    return this.#copy(entry, now, true);
  }

  /** A refresh of a popular entry was started (the forwarder had room for it). */
  notePrefetch(): void {
    this.#prefetches++;
  }

  /**
   * Stores `response` when it is cacheable: NOERROR with an answer to the question (a CNAME
   * chain ending in the asked type), a denial with an SOA, or SERVFAIL.
   */
  set(key: string, response: Buffer): void {
    const walked = walkMessage(response);
    if (walked === null) return;
    const kept = classify(response, walked, { success: this.#category.success, denial: this.#category.denial, prefetch: null, serveStale: null }, this.#servfailTtl);
    if (kept === null) return;
    const now = this.#now();
    // A failure never replaces an answer that can still be served (fresh, or stale on purpose).
    const current = this.#store.get(key);
    if (kept.failure && current !== undefined && !current.failure && now < current.staleUntil) return;
    const offsets = walked.records.filter((r) => r.type !== TYPE.OPT).map((r) => r.ttlAt);
    // A copy of its own, never a slice of Buffer's shared pool, which a kept slice would pin whole.
    const data = Buffer.allocUnsafeSlow(response.length + 2 * offsets.length);
    response.copy(data);
    offsets.forEach((ttlAt, i) => data.writeUInt16BE(ttlAt, response.length + 2 * i));
    const expiresAt = now + kept.ttl * 1000;
    const staleUntil = kept.failure || this.#serveStale === null ? expiresAt : expiresAt + this.#serveStale.durationMs;
    const entry: Entry = { data, length: response.length, storedAt: now, expiresAt, staleUntil, ttl: kept.ttl, type: kept.type, failure: kept.failure, cost: entryCost(key, data.length), usedAt: now, hits: 0, refreshAfter: 0 };
    this.#store.set(key, entry);
  }

  /**
   * Remembers that no upstream answered `question` (all failed or timed out), as a SERVFAIL
   * for it: RFC 9520 asks a resolver not to retry a failed question for a while, so a dead
   * upstream is not asked again for each client retry.
   */
  setFailure(key: string, question: Uint8Array): void {
    this.set(key, servfailFor(question));
  }

  #hit(key: string, entry: Entry, now: number): void {
    this.#hits++;
    if (entry.type === "denial") this.#denialHits++;
    const window = this.#prefetch?.durationMs ?? 0;
    entry.hits = now - entry.usedAt < window || entry.hits === 0 ? entry.hits + 1 : 1;
    this.#store.touch(key, entry, now);
  }

  /** CoreDNS's rule: AMOUNT hits without a gap of DURATION, and PERCENTAGE of the TTL (at least 1 s) left. */
  #wantsPrefetch(entry: Entry, now: number): boolean {
    const policy = this.#prefetch;
    if (policy === null || entry.failure || entry.hits < policy.amount || now < entry.refreshAfter) return false;
    const threshold = Math.max(1, Math.ceil((policy.percentage / 100) * entry.ttl));
    return (entry.expiresAt - now) / 1000 <= threshold;
  }

  /** A copy of the response with each TTL aged to the time left, or STALE_ANSWER_TTL when stale. */
  #copy(entry: Entry, now: number, stale: boolean): Buffer {
    const out = Buffer.allocUnsafe(entry.length);
    entry.data.copy(out, 0, 0, entry.length);
    const age = Math.floor((now - entry.storedAt) / 1000);
    const left = Math.ceil((entry.expiresAt - now) / 1000);
    for (let at = entry.length; at < entry.data.length; at += 2) {
      const ttlAt = entry.data.readUInt16BE(at);
      out.writeUInt32BE(stale ? STALE_ANSWER_TTL : Math.max(0, Math.min(out.readUInt32BE(ttlAt) - age, left)), ttlAt);
    }
    return out;
  }
}

/** The forward cache's key: the question, and the DO and CD bits the answer depends on. */
export function forwardCacheKey(request: ForwardRequest): string {
  return `${request.name}|${request.qtype}|${request.qclass}|${request.dnssecOk ? "do" : "-"}|${request.cd ? "cd" : "-"}`;
}

/** Bytes an entry is charged: its data, its key (one byte a character in V8), and the rest. */
export function entryCost(key: string, dataBytes: number): number {
  return dataBytes + key.length + FORWARD_ENTRY_OVERHEAD;
}

