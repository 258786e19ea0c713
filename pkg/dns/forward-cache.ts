// Caches upstream answers by question, as CoreDNS's `cache 30` does: a success lives at most
// 30 s, a denial (NXDOMAIN or NODATA, which must carry an SOA) at most 5 s, and no longer than
// its own TTLs say. A hit is a copy of the stored bytes with every TTL aged to the time left.
import { skipName, walkMessage } from "./message-walk.ts";

export interface ForwardCacheOptions {
  readonly maxEntries?: number;
  readonly successTtl?: number;
  readonly denialTtl?: number;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
}

interface Entry {
  readonly bytes: Buffer;
  /** Original TTL of each record to age, by offset. */
  readonly ttls: readonly { readonly at: number; readonly ttl: number }[];
  readonly storedAt: number;
  readonly expiresAt: number;
  /** NXDOMAIN or NODATA, counted apart as CoreDNS's cache_hits_total{type="denial"}. */
  readonly denial: boolean;
}

const TYPE_SOA = 6;
const TYPE_OPT = 41;

export class ForwardCache {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #successTtl: number;
  readonly #denialTtl: number;
  readonly #now: () => number;
  #hits = 0;
  #denialHits = 0;
  #misses = 0;

  constructor(options: ForwardCacheOptions = {}) {
    this.#max = options.maxEntries ?? 10_000;
    this.#successTtl = options.successTtl ?? 30;
    this.#denialTtl = options.denialTtl ?? 5;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Lookups answered from the cache, for the cache_hits_total metric. */
  get hits(): number {
    return this.#hits;
  }

  /** The part of `hits` that were denials (NXDOMAIN, NODATA). */
  get denialHits(): number {
    return this.#denialHits;
  }

  get misses(): number {
    return this.#misses;
  }

  /** The cached response for `key` with TTLs aged, or null. Its ID is the upstream's. */
  get(key: string): Buffer | null {
    const entry = this.#entries.get(key);
    const now = this.#now();
    if (entry === undefined || now >= entry.expiresAt) {
      if (entry !== undefined) this.#entries.delete(key);
      this.#misses++;
      return null;
    }
    this.#hits++;
    if (entry.denial) this.#denialHits++;
    // Re-inserting keeps the Map in least-recently-used order for eviction.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const out = Buffer.from(entry.bytes);
    const age = Math.floor((now - entry.storedAt) / 1000);
    const left = Math.ceil((entry.expiresAt - now) / 1000);
    for (const { at, ttl } of entry.ttls) out.writeUInt32BE(Math.max(0, Math.min(ttl - age, left)), at);
    return out;
  }

  /** Stores `response` when it is cacheable: NOERROR with answers, or a denial with an SOA. */
  set(key: string, response: Buffer): void {
    const ttl = cacheTtl(response, this.#successTtl, this.#denialTtl);
    if (ttl === null) return;
    const walked = walkMessage(response);
    if (walked === null) return;
    const ttls = walked.records
      .filter((r) => r.type !== TYPE_OPT)
      .map((r) => ({ at: r.ttlAt, ttl: response.readUInt32BE(r.ttlAt) }));
    const now = this.#now();
    const denial = ((response[3] ?? 0) & 0x0f) !== 0 || !walked.records.some((r) => r.section === 0);
    this.#entries.delete(key);
    this.#entries.set(key, { bytes: Buffer.from(response), ttls, storedAt: now, expiresAt: now + ttl * 1000, denial });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}

/** Seconds to keep a response, or null when it must not be cached. */
export function cacheTtl(response: Buffer, successTtl: number, denialTtl: number): number | null {
  const walked = walkMessage(response);
  if (walked === null) return null;
  const flags = response.readUInt16BE(2);
  if ((flags & 0x0200) !== 0) return null; // truncated
  const rcode = flags & 0x0f;
  const answers = walked.records.filter((r) => r.section === 0);
  if (rcode === 0 && answers.length > 0) {
    const ttls = walked.records.filter((r) => r.type !== TYPE_OPT).map((r) => response.readUInt32BE(r.ttlAt));
    const ttl = Math.min(successTtl, ...ttls);
    return ttl > 0 ? ttl : null;
  }
  if (rcode !== 0 && rcode !== 3) return null;
  // RFC 2308: a denial is cached for the lesser of the SOA's TTL and its minimum field.
  const soa = walked.records.find((r) => r.section === 1 && r.type === TYPE_SOA);
  if (soa === undefined) return null;
  const mname = skipName(response, soa.ttlAt + 6);
  const rname = mname < 0 ? -1 : skipName(response, mname);
  if (rname < 0 || rname + 20 > soa.end) return null;
  const ttl = Math.min(denialTtl, response.readUInt32BE(soa.ttlAt), response.readUInt32BE(rname + 16));
  return ttl > 0 ? ttl : null;
}
