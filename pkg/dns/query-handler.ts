// One query's bytes in, the response's bytes out, for UDP and TCP alike: decode, answer from
// the store, encode. Cluster names are answered synchronously; only names that go upstream
// return a promise. Nothing here throws: a failure becomes SERVFAIL, and a packet without a
// readable header is dropped.
import { AnswerCache } from "./answer-cache.ts";
import { answerQuestion, type AnswerOptions, RFC8482_REPLY } from "./answer.ts";
import type { Autopath } from "./autopath.ts";
import { type Forward, resolveTarget } from "./cname-chase.ts";
import { decodeQuery, type Query } from "./query-decode.ts";
import { CLASS_ANY, CLASS_IN, RCODE, type Reply, TYPE } from "./records.ts";
import type { RecordStore } from "./record-store.ts";
import { encodeBare, encodeReply, relayResponse, TCP_LIMIT, udpLimit } from "./wire.ts";

/** A query for the upstream: the client's message as received, and its question. */
export interface ForwardRequest {
  readonly message: Buffer;
  /** The question as on the wire: name, type and class. */
  readonly question: Buffer;
  /** Lower-case, without the trailing dot. */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  /** The client's DO bit (EDNS) and CD bit: answers differ by them, so the cache keys on them. */
  readonly dnssecOk: boolean;
  readonly cd: boolean;
  /** How the client asked; a zone with `preferUdp: false` asks upstream the same way. UDP when not given. */
  readonly transport?: Transport;
}

export type Transport = "udp" | "tcp";

export interface QueryHandlerOptions extends AnswerOptions {
  readonly store: RecordStore;
  /** Answers names outside the cluster zone; without it they are REFUSED. */
  readonly forward?: Forward;
  /** Encoded cluster answers, kept until their scope in the store changes; null turns it off. On by default. */
  readonly answerCache?: AnswerCache | null;
  /** Walks a verified Pod's search list server-side (autopath.ts); off when absent. */
  readonly autopath?: Autopath;
}

/** Where a query came from, for logs and autopath (whose answer depends on the Pod it is). */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

export type QueryResult = Buffer | null | Promise<Buffer | null>;
export type QueryHandler = (message: Buffer, transport: Transport, peer?: Peer) => QueryResult;

export function createQueryHandler(options: QueryHandlerOptions): QueryHandler {
  const { store, forward } = options;
  const recursionAvailable = forward !== undefined;
  const cache = options.answerCache === undefined ? new AnswerCache() : options.answerCache;

  return (message, transport, peer) => {
    const decoded = decodeQuery(message);
    if (!decoded.ok) {
      if (decoded.action === "drop") return null;
      const rcode = decoded.action === "formerr" ? RCODE.FORMERR : RCODE.NOTIMP;
      return encodeBare(message, decoded, { rcode }, decoded.questionEnd);
    }
    const query = decoded.query;
    const limit = transport === "udp" ? udpLimit(query.edns) : TCP_LIMIT;
    // ANY over UDP is answered minimally (RFC 8482), over TCP in full: its answer depends on
    // the transport, which the cache key does not hold, so ANY is never kept.
    const any = query.qtype === TYPE.ANY;
    const minimalAny = any && transport === "udp";
    const encodeOptions = { limit, recursionAvailable };
    const fail = (rcode: number) => encodeBare(message, query, { rcode, ra: recursionAvailable }, query.questionEnd);
    try {
      if (query.edns !== null && query.edns.version > 0) return fail(RCODE.BADVERS);
      const walked = query.qclass === CLASS_IN ? (options.autopath?.(query, peer?.address) ?? null) : null;
      if (walked !== null) return walked.then((reply) => encodeReply(message, query, reply, encodeOptions), () => fail(RCODE.SERVFAIL));
      // Only a synced store's answers are kept: before the sync they are SERVFAIL.
      const key = cache !== null && store.synced && !any ? AnswerCache.key(query) : null;
      if (cache !== null && key !== null) {
        const hit = cache.get(key, message, query, limit);
        if (hit !== null) return hit;
      }
      // Taken before the answer is built: a change after this makes the cached answer stale.
      const scope = key === null ? null : store.scopeOf(query.name);
      const answer = answerQuestion(store, query.name, query.qtype, minimalAny ? { ...options, minimalAny } : options);
      if (answer.kind === "forward") {
        if (forward === undefined) return fail(RCODE.REFUSED);
        if (minimalAny) return encodeReply(message, query, RFC8482_REPLY, encodeOptions);
        return relay(forward, message, query, limit, fail, transport);
      }
      if (query.qclass !== CLASS_IN && query.qclass !== CLASS_ANY) return fail(RCODE.REFUSED);
      if (answer.kind === "reply") {
        const response = encodeReply(message, query, answer, encodeOptions);
        if (cache !== null && key !== null && scope !== null && withinScope(answer, query.qtype)) cache.set(key, scope, response);
        return response;
      }
      if (forward === undefined) return encodeReply(message, query, answer.reply, encodeOptions);
      return resolveTarget(forward, answer.target, answer.qtype).then(
        (sets) => {
          const reply = { ...answer.reply, answer: [...answer.reply.answer, ...sets] };
          return encodeReply(message, query, reply, encodeOptions);
        },
        () => encodeReply(message, query, answer.reply, encodeOptions),
      );
    } catch {
      return fail(RCODE.SERVFAIL);
    }
  };
}

/**
 * Whether an answer depends only on its own name's scope: not when it followed a CNAME to
 * another in-zone name (an ExternalName pointing into the cluster), whose scope may differ.
 */
function withinScope(reply: Reply, qtype: number): boolean {
  if (qtype === TYPE.CNAME) return true;
  return !reply.answer.some((set) => set.type === TYPE.CNAME);
}

async function relay(
  forward: Forward,
  message: Buffer,
  query: Query,
  limit: number,
  fail: (rcode: number) => Buffer,
  transport: Transport,
): Promise<Buffer> {
  try {
    const question = message.subarray(12, query.questionEnd);
    const response = await forward({
      message,
      question,
      name: query.name,
      qtype: query.qtype,
      qclass: query.qclass,
      dnssecOk: query.edns?.dnssecOk === true,
      cd: query.cd,
      transport,
    });
    return relayResponse(response, message, query, limit) ?? fail(RCODE.SERVFAIL);
  } catch {
    return fail(RCODE.SERVFAIL);
  }
}
