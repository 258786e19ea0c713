// Caches upstream answers by question, as CoreDNS's `cache 30` does: a success lives at most
// 30 s, a denial (NXDOMAIN or NODATA, which must carry an SOA) at most 5 s, a failure
// (SERVFAIL, or no upstream answering) 5 s (RFC 9520), and none longer than its own TTLs say.
// A hit is a copy of the stored bytes with every TTL aged to the time left. The cache is
// bounded by bytes as well as by entries: an upstream can answer up to 64 KiB a question, so a
// count alone lets a client that asks for many large names take all the daemon's memory.
import { sameName, skipName, walkMessage, type WalkedMessage } from "./message-walk.ts";
import type { ForwardRequest } from "./query-handler.ts";
import { RCODE, TYPE } from "./records.ts";

export interface ForwardCacheOptions {
  /** Responses kept at most; 10,000 by default (CoreDNS keeps 9,984 successes and 9,984 denials). */
  readonly maxEntries?: number;
  /** Bytes kept at most, counted by entryCost; DEFAULT_FORWARD_CACHE_BYTES (16 MiB) by default. */
  readonly maxBytes?: number;
  readonly successTtl?: number;
  readonly denialTtl?: number;
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

/** A response larger than this share of the capacity is not kept: one must not flush the rest. */
const LARGEST_SHARE = 16;

interface Entry {
  /** The response, then the 16-bit offset of each TTL to age (records other than OPT). */
  readonly data: Buffer;
  /** Length of the response within `data`. */
  readonly length: number;
  readonly storedAt: number;
  readonly expiresAt: number;
  /** NXDOMAIN, NODATA or a failure: counted apart as CoreDNS's type="denial". */
  readonly denial: boolean;
  /** Bytes charged against the capacity. */
  readonly cost: number;
}

export type CacheType = "success" | "denial";

export class ForwardCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #successTtl: number;
  readonly #denialTtl: number;
  readonly #servfailTtl: number;
  readonly #now: () => number;
  #bytes = 0;
  #hits = 0;
  #denialHits = 0;
  #misses = 0;
  #evictedSuccess = 0;
  #evictedDenial = 0;

  constructor(options: ForwardCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxBytes = options.maxBytes ?? DEFAULT_FORWARD_CACHE_BYTES;
    this.#successTtl = options.successTtl ?? 30;
    this.#denialTtl = options.denialTtl ?? 5;
    this.#servfailTtl = options.servfailTtl ?? 5;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held, as entryCost counts them; never above maxBytes. */
  get bytes(): number {
    return this.#bytes;
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

  /** Entries dropped to make room, by CoreDNS's type, for coredns_cache_evictions_total. */
  evictions(type: CacheType): number {
    return type === "success" ? this.#evictedSuccess : this.#evictedDenial;
  }

  /** Drops every entry: the upstreams changed (a reload), so their answers no longer stand. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  /** The cached response for `key` with TTLs aged, or null. Its ID is the upstream's. */
  get(key: string): Buffer | null {
    const entry = this.#entries.get(key);
    const now = this.#now();
    if (entry === undefined || now >= entry.expiresAt) {
      if (entry !== undefined) this.#remove(key, entry);
      this.#misses++;
      return null;
    }
    this.#hits++;
    if (entry.denial) this.#denialHits++;
    // Re-inserting keeps the Map in least-recently-used order for eviction.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const out = Buffer.allocUnsafe(entry.length);
    entry.data.copy(out, 0, 0, entry.length);
    const age = Math.floor((now - entry.storedAt) / 1000);
    const left = Math.ceil((entry.expiresAt - now) / 1000);
    for (let at = entry.length; at < entry.data.length; at += 2) {
      const ttlAt = entry.data.readUInt16BE(at);
      out.writeUInt32BE(Math.max(0, Math.min(out.readUInt32BE(ttlAt) - age, left)), ttlAt);
    }
    return out;
  }

  /**
   * Stores `response` when it is cacheable: NOERROR with an answer to the question (a CNAME
   * chain ending in the asked type), a denial with an SOA, or SERVFAIL.
   */
  set(key: string, response: Buffer): void {
    const walked = walkMessage(response);
    if (walked === null) return;
    const kept = classify(response, walked, this.#successTtl, this.#denialTtl, this.#servfailTtl);
    if (kept === null) return;
    const offsets = walked.records.filter((r) => r.type !== TYPE.OPT).map((r) => r.ttlAt);
    // A copy of its own, never a slice of Buffer's shared pool, which a kept slice would pin whole.
    const data = Buffer.allocUnsafeSlow(response.length + 2 * offsets.length);
    response.copy(data);
    offsets.forEach((ttlAt, i) => data.writeUInt16BE(ttlAt, response.length + 2 * i));
    const now = this.#now();
    const denial = kept.type === "denial";
    this.#store(key, { data, length: response.length, storedAt: now, expiresAt: now + kept.ttl * 1000, denial, cost: entryCost(key, data.length) });
  }

  /**
   * Remembers that no upstream answered `question` (all failed or timed out), as a SERVFAIL
   * for it: RFC 9520 asks a resolver not to retry a failed question for a while, so a dead
   * upstream is not asked again for each client retry.
   */
  setFailure(key: string, question: Uint8Array): void {
    this.set(key, servfailFor(question));
  }

  #store(key: string, entry: Entry): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    if (entry.cost > this.#maxBytes / LARGEST_SHARE) return;
    this.#entries.set(key, entry);
    this.#bytes += entry.cost;
    while (this.#bytes > this.#maxBytes || this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.entries().next();
      if (oldest.done === true) break;
      const [oldestKey, evicted] = oldest.value;
      this.#remove(oldestKey, evicted);
      if (evicted.denial) this.#evictedDenial++;
      else this.#evictedSuccess++;
    }
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.cost;
    // Nothing outside holds the data (get hands out copies), so its memory is given back now:
    // left to the garbage collector, evicted 60 KB answers wait as old-generation garbage for
    // the next full collection, which a flood of distinct large answers makes tens of MiB.
    const { buffer } = entry.data;
    if (buffer instanceof ArrayBuffer) buffer.transfer(0);
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

/** A SERVFAIL response to `question` (name, type, class as on the wire), with ID 0 and RA. */
export function servfailFor(question: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + question.length);
  out.writeUInt16BE(0x8180 | RCODE.SERVFAIL, 2);
  out.writeUInt16BE(1, 4);
  out.set(question, 12);
  return out;
}

/** Seconds to keep a response, or null when it must not be cached. */
export function cacheTtl(response: Buffer, successTtl: number, denialTtl: number, servfailTtl = 0): number | null {
  const walked = walkMessage(response);
  return walked === null ? null : (classify(response, walked, successTtl, denialTtl, servfailTtl)?.ttl ?? null);
}

/** How long to keep a response and under which type; null when it must not be cached. */
function classify(
  response: Buffer,
  walked: WalkedMessage,
  successTtl: number,
  denialTtl: number,
  servfailTtl: number,
): { readonly ttl: number; readonly type: CacheType } | null {
  const flags = response.readUInt16BE(2);
  if ((flags & 0x0200) !== 0) return null; // truncated
  const rcode = flags & 0x0f;
  if (rcode === RCODE.SERVFAIL) return servfailTtl > 0 && walked.questionEnd > 12 ? { ttl: servfailTtl, type: "denial" } : null;
  if (rcode === 0 && chainAnswers(response, walked)) {
    let ttl = successTtl;
    for (const r of walked.records) if (r.type !== TYPE.OPT) ttl = Math.min(ttl, response.readUInt32BE(r.ttlAt));
    return ttl > 0 ? { ttl, type: "success" } : null;
  }
  if (rcode !== 0 && rcode !== RCODE.NXDOMAIN) return null;
  // A denial: NXDOMAIN, or NODATA, for the name or for the end of the CNAME chain it begins.
  // Without an SOA it cannot be told from a partial answer, and it carries no TTL to keep it by.
  // RFC 2308: a denial is cached for the lesser of the SOA's TTL and its minimum field.
  const soa = walked.records.find((r) => r.section === 1 && r.type === TYPE.SOA);
  if (soa === undefined) return null;
  const mname = skipName(response, soa.ttlAt + 6);
  const rname = mname < 0 ? -1 : skipName(response, mname);
  if (rname < 0 || rname + 20 > soa.end) return null;
  const ttl = Math.min(denialTtl, response.readUInt32BE(soa.ttlAt), response.readUInt32BE(rname + 16));
  return ttl > 0 ? { ttl, type: "denial" } : null;
}

/**
 * Whether the answer section answers the question: a record of the asked type at the name, or
 * at the end of the CNAME chain that starts there. A chain that stops short (the upstream gave
 * up, or a forger cut it) is not a complete answer.
 */
function chainAnswers(response: Buffer, walked: WalkedMessage): boolean {
  const answers = walked.records.filter((r) => r.section === 0);
  if (answers.length === 0 || walked.questionEnd <= 12) return false;
  const qtype = response.readUInt16BE(walked.questionEnd - 4);
  if (qtype === TYPE.ANY) return true;
  let name = 12;
  // Each step follows one CNAME, so a chain longer than the answers is a loop.
  for (let step = 0; step <= answers.length; step++) {
    const here = answers.filter((r) => sameName(response, r.start, name));
    if (here.some((r) => r.type === qtype)) return true;
    const cname = here.find((r) => r.type === TYPE.CNAME);
    if (cname === undefined) return false;
    name = cname.ttlAt + 6;
  }
  return false;
}
