// Whole encoded responses to cluster questions: a repeated question (most are: every pod asks
// for the same few Services and the same search-path misses) is a Map lookup and a copy, with
// the client's ID, flags, question and EDNS size written over it. Each response remembers the
// generation of its scope in the record store (a namespace, the reverse zones, or the rest of
// the zone), so a change to one Service leaves the answers of other namespaces cached.
//
// The SOA serial: the zone's SOA, and the SOA in every negative answer, carries the serial of
// the moment the answer was built. A cached answer keeps that serial until its own scope
// changes, so two negative answers may show different serials, each no newer than the data it
// reflects; the apex and other zone-level names follow every change. CoreDNS behaves alike:
// its cache plugin serves answers with the serial they were made with. Nothing here reads the
// serial to decide freshness (AXFR and IXFR are refused), so only the generations matter.
import type { Query } from "./query-decode.ts";
import { HEADER_SIZE } from "./query-decode.ts";
import type { Generation } from "./record-store.ts";

export interface AnswerCacheOptions {
  /**
   * Responses kept at most, 120,000 by default (some 35 MiB when full): each half then holds
   * the 43,000 distinct questions that ndots:5 clients of 10,000 Services produced in the
   * benchmark, which a 50,000 cache kept cycling. Entries live in two halves: when
   * the newer half is full, the older one is dropped whole and the newer takes its place, and a
   * hit in the older half moves the entry forward. Questions asked again stay; a stream of
   * distinct ones (search-path misses for many names, a fuzzer) only cycles the halves.
   */
  readonly maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 120_000;

interface Entry {
  readonly bytes: Buffer;
  readonly generation: Generation;
  /** The generation's value when the response was built. */
  readonly builtAt: number;
}

const OPT_SIZE = 11;
const UDP_PLAIN_LIMIT = 512;

export class AnswerCache {
  #newer = new Map<string, Entry>();
  #older = new Map<string, Entry>();
  readonly #half: number;

  constructor(options: AnswerCacheOptions = {}) {
    this.#half = Math.max(1, Math.floor((options.maxEntries ?? DEFAULT_MAX_ENTRIES) / 2));
  }

  get size(): number {
    return this.#newer.size + this.#older.size;
  }

  /**
   * The key of a question: everything the response depends on besides the store, the
   * transport and the EDNS size, which only decide whether it fits (checked at each hit). The
   * name is decodeQuery's lower-case text, so a question in any case finds the same response.
   */
  static key(query: Query): string {
    const edns = query.edns === null ? "-" : query.edns.dnssecOk ? "d" : "e";
    return `${query.name}|${query.qtype}|${query.qclass}|${edns}`;
  }

  /**
   * A copy of the response stored for `key`, made out to `message`; null when there is none,
   * its scope has changed since, or it is larger than `limit`.
   */
  get(key: string, message: Uint8Array, query: Query, limit: number): Buffer | null {
    let entry = this.#newer.get(key);
    if (entry === undefined) {
      entry = this.#older.get(key);
      if (entry === undefined) return null;
      this.#older.delete(key);
      if (entry.generation.value === entry.builtAt) this.#admit(key, entry);
    }
    if (entry.generation.value !== entry.builtAt) {
      this.#newer.delete(key);
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
    out.set(message.subarray(HEADER_SIZE, query.questionEnd), HEADER_SIZE);
    // The OPT record is always last: it echoes this client's UDP size.
    if (query.edns !== null) out.writeUInt16BE(Math.max(UDP_PLAIN_LIMIT, query.edns.udpSize), out.length - OPT_SIZE + 3);
    return out;
  }

  /** Keeps `response` for `key` while `generation` stays where it is now. Truncated ones are not kept. */
  set(key: string, generation: Generation, response: Buffer): void {
    if (((response[2] ?? 0) & 0x02) !== 0) return;
    // A copy of its own: a small Buffer is a slice of a shared 8 KiB pool, which a kept
    // slice would pin whole.
    const bytes = Buffer.allocUnsafeSlow(response.length);
    response.copy(bytes);
    this.#older.delete(key);
    this.#admit(key, { bytes, generation, builtAt: generation.value });
  }

  #admit(key: string, entry: Entry): void {
    if (this.#newer.size >= this.#half && !this.#newer.has(key)) {
      this.#older = this.#newer;
      this.#newer = new Map();
    }
    this.#newer.set(key, entry);
  }
}
