// One query's bytes in, the response's bytes out, for UDP and TCP alike: decode, answer from
// the store, encode. Cluster names are answered synchronously; only names that go upstream
// return a promise. Nothing here throws: a failure becomes SERVFAIL, and a packet without a
// readable header is dropped.
import { AnswerCache } from "./answer-cache.ts";
import { type Answer, answerQuestion, type AnswerOptions, RFC8482_REPLY } from "./answer.ts";
import type { Autopath } from "./autopath.ts";
import { type Forward, resolveTarget } from "./cname-chase.ts";
import { decodeQuery, type Query } from "./query-decode.ts";
import { CLASS_ANY, CLASS_IN, RCODE, type Reply, type RRSet, TYPE } from "./records.ts";
import type { RecordStore } from "./record-store.ts";
import { encodeBare, type EncodeOptions, encodeReply, relayResponse, TCP_LIMIT, udpLimit } from "./wire.ts";

type Chase = Extract<Answer, { kind: "chase" }>;

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
  const cache = options.answerCache === undefined ? new AnswerCache() : options.answerCache;
  const ctx: HandlerContext = { options, cache, recursionAvailable: options.forward !== undefined };
  return (message, transport, peer) => {
    const decoded = decodeQuery(message);
    if (!decoded.ok) {
      if (decoded.action === "drop") return null;
      const rcode = decoded.action === "formerr" ? RCODE.FORMERR : RCODE.NOTIMP;
      return encodeBare(message, decoded, { rcode }, decoded.questionEnd);
    }
    try {
      return answerQuery(ctx, message, decoded.query, transport, peer);
    } catch {
      return failure(ctx, message, decoded.query, RCODE.SERVFAIL);
    }
  };
}

interface HandlerContext {
  readonly options: QueryHandlerOptions;
  readonly cache: AnswerCache | null;
  /** Set RA: whether this server forwards other names. */
  readonly recursionAvailable: boolean;
}

function failure(ctx: HandlerContext, message: Buffer, query: Query, rcode: number): Buffer {
  return encodeBare(message, query, { rcode, ra: ctx.recursionAvailable }, query.questionEnd);
}

// Every query goes through here, most of them to a cached answer: it makes no closure, so a
// query allocates no context for one; the rare paths that wait on a promise are functions of
// their own.
function answerQuery(ctx: HandlerContext, message: Buffer, query: Query, transport: Transport, peer: Peer | undefined): QueryResult {
  const { options, cache } = ctx;
  const { store, forward } = options;
  const limit = transport === "udp" ? udpLimit(query.edns) : TCP_LIMIT;
  // ANY over UDP is answered minimally (RFC 8482), over TCP in full: its answer depends on
  // the transport, which the cache key does not hold, so ANY is never kept.
  const any = query.qtype === TYPE.ANY;
  const minimalAny = any && transport === "udp";
  if (query.edns !== null && query.edns.version > 0) return failure(ctx, message, query, RCODE.BADVERS);
  const walked = query.qclass === CLASS_IN ? (options.autopath?.(query, peer?.address) ?? null) : null;
  if (walked !== null) return encodeWalked(ctx, message, query, limit, walked);
  // Only a synced store's answers are kept: before the sync they are SERVFAIL.
  const cacheable = cache !== null && store.synced && !any ? cache : null;
  if (cacheable !== null) {
    const hit = cacheable.get(message, query, limit);
    if (hit !== null) return hit;
  }
  // Taken before the answer is built: a change after this makes the cached answer stale.
  const scope = cacheable === null ? null : store.scopeOf(query.name);
  const answer = answerQuestion(store, query.name, query.qtype, minimalAny ? { ...options, minimalAny } : options);
  const encodeOptions = { limit, recursionAvailable: ctx.recursionAvailable };
  if (answer.kind === "forward") {
    if (forward === undefined) return failure(ctx, message, query, RCODE.REFUSED);
    if (minimalAny) return encodeReply(message, query, RFC8482_REPLY, encodeOptions);
    return relay(ctx, forward, message, query, limit, transport);
  }
  if (query.qclass !== CLASS_IN && query.qclass !== CLASS_ANY) return failure(ctx, message, query, RCODE.REFUSED);
  if (answer.kind === "reply") {
    const response = encodeReply(message, query, answer, encodeOptions);
    if (cacheable !== null && scope !== null && withinScope(answer, query.qtype)) cacheable.set(query, scope, response);
    return response;
  }
  if (forward === undefined) return encodeReply(message, query, answer.reply, encodeOptions);
  return encodeChased(forward, message, query, answer, encodeOptions);
}

/** The answer autopath found by walking the search list; SERVFAIL when the walk failed. */
async function encodeWalked(ctx: HandlerContext, message: Buffer, query: Query, limit: number, walked: Promise<Reply>): Promise<Buffer> {
  try {
    return encodeReply(message, query, await walked, { limit, recursionAvailable: ctx.recursionAvailable });
  } catch {
    return failure(ctx, message, query, RCODE.SERVFAIL);
  }
}

/** A CNAME into another zone, followed upstream; the CNAME alone when that fails. */
async function encodeChased(forward: Forward, message: Buffer, query: Query, answer: Chase, encodeOptions: EncodeOptions): Promise<Buffer> {
  let sets: readonly RRSet[];
  try {
    sets = await resolveTarget(forward, answer.target, answer.qtype);
  } catch {
    return encodeReply(message, query, answer.reply, encodeOptions);
  }
  return encodeReply(message, query, { ...answer.reply, answer: [...answer.reply.answer, ...sets] }, encodeOptions);
}

/**
 * Whether an answer depends only on its own name's scope: not when it followed a CNAME to
 * another in-zone name (an ExternalName pointing into the cluster), whose scope may differ.
 */
function withinScope(reply: Reply, qtype: number): boolean {
  if (qtype === TYPE.CNAME) return true;
  return !reply.answer.some((set) => set.type === TYPE.CNAME);
}

/** The upstreams' answer relayed to the client: at once when the forward cache holds it. */
function relay(ctx: HandlerContext, forward: Forward, message: Buffer, query: Query, limit: number, transport: Transport): QueryResult {
  try {
    const response = forward({
      message,
      question: message.subarray(12, query.questionEnd),
      name: query.name,
      qtype: query.qtype,
      qclass: query.qclass,
      dnssecOk: query.edns?.dnssecOk === true,
      cd: query.cd,
      transport,
    });
    if (response instanceof Promise) return relayLater(ctx, response, message, query, limit);
    return relayResponse(response, message, query, limit) ?? failure(ctx, message, query, RCODE.SERVFAIL);
  } catch {
    return failure(ctx, message, query, RCODE.SERVFAIL);
  }
}

async function relayLater(ctx: HandlerContext, pending: Promise<Buffer>, message: Buffer, query: Query, limit: number): Promise<Buffer> {
  try {
    return relayResponse(await pending, message, query, limit) ?? failure(ctx, message, query, RCODE.SERVFAIL);
  } catch {
    return failure(ctx, message, query, RCODE.SERVFAIL);
  }
}
