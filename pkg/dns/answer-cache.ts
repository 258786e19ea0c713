// Whole encoded responses to cluster questions, kept until the store's data changes: a repeated
// question (most are: every pod asks for the same few Services and the same search-path misses)
// is then a Map lookup and a copy, with the client's ID, flags and question written over it.
// Any change to the store moves its serial, and a new serial empties this cache.
import type { Query } from "./query-decode.ts";
import { HEADER_SIZE } from "./query-decode.ts";
import type { Transport } from "./query-handler.ts";

export interface AnswerCacheOptions {
  /**
   * Responses kept at most, 50,000 by default (some 15 MiB). A full cache admits nothing more
   * until the store changes: evicting to admit would, under a stream of distinct questions
   * (search-path misses for many names), cost more than the cache saves.
   */
  readonly maxEntries?: number;
}

export class AnswerCache {
  readonly #entries = new Map<string, Buffer>();
  readonly #max: number;
  #serial = -1;

  constructor(options: AnswerCacheOptions = {}) {
    this.#max = options.maxEntries ?? 50_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The key of a question: everything the response depends on besides the store. The name is
   * decodeQuery's lower-case text, so a question in any case finds the same response.
   */
  static key(query: Query, transport: Transport): string {
    const edns = query.edns === null ? "-" : `${query.edns.udpSize}/${query.edns.dnssecOk ? 1 : 0}`;
    return `${query.name}|${query.qtype}|${query.qclass}|${transport}|${edns}`;
  }

  /** A copy of the response stored for `key` at `serial`, made out to `message`; null on a miss. */
  get(key: string, serial: number, message: Uint8Array, query: Query): Buffer | null {
    if (serial !== this.#serial) {
      this.#entries.clear();
      this.#serial = serial;
      return null;
    }
    const stored = this.#entries.get(key);
    if (stored === undefined) return null;
    const out = Buffer.allocUnsafe(stored.length);
    stored.copy(out);
    // ID, RD and CD come from the query; the question is echoed exactly as asked, case included.
    out[0] = message[0] ?? 0;
    out[1] = message[1] ?? 0;
    out[2] = ((out[2] ?? 0) & 0xfe) | (query.rd ? 0x01 : 0);
    out[3] = ((out[3] ?? 0) & 0xef) | (query.cd ? 0x10 : 0);
    out.set(message.subarray(HEADER_SIZE, query.questionEnd), HEADER_SIZE);
    return out;
  }

  /** Keeps `response` for `key` while the store stays at `serial`. */
  set(key: string, serial: number, response: Buffer): void {
    if (serial !== this.#serial) {
      this.#entries.clear();
      this.#serial = serial;
    }
    if (this.#entries.size >= this.#max) return;
    // A copy of its own: a small Buffer is a slice of a shared 8 KiB pool, which a kept
    // slice would pin whole.
    const own = Buffer.allocUnsafeSlow(response.length);
    response.copy(own);
    this.#entries.set(key, own);
  }
}
