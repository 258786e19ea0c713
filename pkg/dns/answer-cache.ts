// Whole encoded responses to cluster questions: a repeated question (most are: every pod asks
// for the same few Services and the same search-path misses) is a Map lookup and a copy, with
// the client's ID, flags, question and EDNS size written over it. Each response remembers the
// generation of its scope in the record store (a namespace, the reverse zones, or the rest of
// the zone), so a change to one Service leaves the answers of other namespaces cached.
//
// The Map's key is a number made from the question's name hash (query-decode.ts), type, class
// and EDNS kind, and each entry holds the question it answers, checked at every hit: a string
// key was built and hashed anew for every query, and its lookup took a tenth of the server's
// time at saturation.
//
// The SOA serial: the zone's SOA, and the SOA in every negative answer, carries the serial of
// the moment the answer was built. A cached answer keeps that serial until its own scope
// changes, so two negative answers may show different serials, each no newer than the data it
// reflects; the apex and other zone-level names follow every change. CoreDNS behaves alike:
// its cache plugin serves answers with the serial they were made with. Nothing here reads the
// serial to decide freshness (AXFR and IXFR are refused), so only the generations matter.
import type { Query } from "./query-decode.ts";
import { fnvStep, HEADER_SIZE } from "./query-decode.ts";
import type { Generation } from "./zone-changes.ts";
import { udpLimit } from "./wire.ts";

export interface AnswerCacheOptions {
  /**
   * Bytes kept at most, counted by answerEntryCost; 32 MiB by default. A cluster answer is
   * charged some 500 bytes with its name and overhead, so each half then holds some 33,000
   * questions, most of the 43,000 distinct ones that ndots:5 clients of 10,000 Services
   * produced in the benchmark.
   * Entries live in two halves: when the newer half is full, the older one is dropped whole and
   * the newer takes its place, and a hit in the older half moves the entry forward. Questions
   * asked again stay; a stream of distinct ones (search-path misses for many names, a fuzzer)
   * only cycles the halves.
   */
  readonly maxBytes?: number;
}

export const DEFAULT_ANSWER_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * What an entry costs besides its response bytes and its name: the Map slot, the entry object
 * and the Buffer object with its backing store. Measured on Node 24 as heap plus external
 * growth, 25,000 entries at a time: 347 bytes each, 384 over a step in which the Map grew.
 * (Keyed by strings, the same entries had cost 501 and 538 besides the key's characters.)
 */
export const ANSWER_ENTRY_OVERHEAD = 384;

/** A response larger than this share of a half is not kept: one must not push the rest out. */
const LARGEST_SHARE = 8;

interface Entry {
  /** The question answered, as decodeQuery reads it: a key's number may stand for another. */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly edns: number;
  readonly bytes: Buffer;
  readonly generation: Generation;
  /** The generation's value when the response was built. */
  readonly builtAt: number;
  /** Bytes charged against the capacity. */
  readonly cost: number;
}

const OPT_SIZE = 11;

/** One half of the cache: its entries and the bytes they are charged. */
interface Half {
  readonly entries: Map<number, Entry>;
  bytes: number;
}

export class AnswerCache {
  #newer: Half = { entries: new Map(), bytes: 0 };
  #older: Half = { entries: new Map(), bytes: 0 };
  readonly #half: number;
  #evictions = 0;

  constructor(options: AnswerCacheOptions = {}) {
    this.#half = Math.max(1, Math.floor((options.maxBytes ?? DEFAULT_ANSWER_CACHE_BYTES) / 2));
  }

  get size(): number {
    return this.#newer.entries.size + this.#older.entries.size;
  }

  /** Bytes held, as answerEntryCost counts them; never above maxBytes. */
  get bytes(): number {
    return this.#newer.bytes + this.#older.bytes;
  }

  /** Entries dropped with the older half to make room, stale ones included. */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * A copy of the response stored for `query`'s question, made out to `message`; null when
   * there is none, its scope has changed since, or it is larger than `limit`. The question is
   * everything the response depends on besides the store, the transport and the EDNS size,
   * which only decide whether it fits: the lower-case name (so a question in any case finds the
   * same response), type, class, and whether EDNS is there and with the DO bit.
   */
  get(message: Uint8Array, query: Query, limit: number): Buffer | null {
    const key = keyOf(query);
    let entry = this.#newer.entries.get(key);
    if (entry === undefined) {
      entry = this.#older.entries.get(key);
      if (entry === undefined || !answers(entry, query)) return null;
      remove(this.#older, key, entry);
      if (entry.generation.value === entry.builtAt) this.#admit(key, entry);
    } else if (!answers(entry, query)) return null;
    if (entry.generation.value !== entry.builtAt) {
      if (this.#newer.entries.get(key) === entry) remove(this.#newer, key, entry);
      return null;
    }
    const stored = entry.bytes;
    if (stored.length > limit) return null;
    const out = Buffer.allocUnsafe(stored.length);
    stored.copy(out);
    // ID, RD and CD come from the query; the question is echoed exactly as asked, case included.
    out[0] = message[0] ?? 0;
    out[1] = message[1] ?? 0;
    out[2] = ((out[2] ?? 0) & 0xfe) | (query.rd ? 0x01 : 0);
    out[3] = ((out[3] ?? 0) & 0xef) | (query.cd ? 0x10 : 0);
    // Byte by byte: a subarray to copy from would be one more object per query.
    for (let i = HEADER_SIZE; i < query.questionEnd; i++) out[i] = message[i] ?? 0;
    // The OPT record is always last: it echoes this client's UDP size.
    if (query.edns !== null) out.writeUInt16BE(udpLimit(query.edns), out.length - OPT_SIZE + 3);
    return out;
  }

  /**
   * Keeps `response` to `query`'s question while `generation` stays where it is now, in the
   * place of any other question whose key is the same number. Truncated ones are not kept, nor
   * one so large that it would take a good share of a half.
   */
  set(query: Query, generation: Generation, response: Buffer): void {
    if (((response[2] ?? 0) & 0x02) !== 0) return;
    const key = keyOf(query);
    const cost = answerEntryCost(query.name, response.length);
    const older = this.#older.entries.get(key);
    if (older !== undefined) remove(this.#older, key, older);
    if (cost > this.#half / LARGEST_SHARE) {
      const newer = this.#newer.entries.get(key);
      if (newer !== undefined) remove(this.#newer, key, newer);
      return;
    }
    // A copy of its own: a small Buffer is a slice of a shared 8 KiB pool, which a kept
    // slice would pin whole.
    const bytes = Buffer.allocUnsafeSlow(response.length);
    response.copy(bytes);
    const { name, qtype, qclass } = query;
    this.#admit(key, { name, qtype, qclass, edns: ednsKind(query), bytes, generation, builtAt: generation.value, cost });
  }

  #admit(key: number, entry: Entry): void {
    const replaced = this.#newer.entries.get(key);
    if (replaced !== undefined) remove(this.#newer, key, replaced);
    if (this.#newer.bytes + entry.cost > this.#half) {
      this.#evictions += this.#older.entries.size;
      this.#older = this.#newer;
      this.#newer = { entries: new Map(), bytes: 0 };
    }
    this.#newer.entries.set(key, entry);
    this.#newer.bytes += entry.cost;
  }
}

/** Bytes an entry is charged: its response, its name (one byte a character in V8), and the rest. */
export function answerEntryCost(name: string, responseBytes: number): number {
  return responseBytes + name.length + ANSWER_ENTRY_OVERHEAD;
}

/** No EDNS, EDNS, EDNS with the DO bit: the three kinds of answer a question can have. */
function ednsKind(query: Query): number {
  return query.edns === null ? 0 : query.edns.dnssecOk ? 2 : 1;
}

/** The Map key of a question: its name hash mixed with type, class and EDNS kind, a small integer. */
function keyOf(query: Query): number {
  const key = fnvStep(fnvStep(fnvStep(query.nameHash, query.qtype), query.qclass), ednsKind(query));
  // 30 bits: a small integer in V8 on every build, which the Map hashes without a heap number.
  return key & 0x3fffffff;
}

/**
 * Whether the entry answers `query`: the same name (lower-case, so in any case), type, class
 * and EDNS kind. Comparing the names as strings measured faster than comparing the question's
 * bytes with the stored response's.
 */
function answers(entry: Entry, query: Query): boolean {
  return entry.name === query.name && entry.qtype === query.qtype && entry.qclass === query.qclass && entry.edns === ednsKind(query);
}

function remove(half: Half, key: number, entry: Entry): void {
  half.entries.delete(key);
  half.bytes -= entry.cost;
}
