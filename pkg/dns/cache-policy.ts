// What the forward cache keeps and for how long, CoreDNS cache's `success`, `denial`,
// `prefetch` and `serve_stale`: a success (an answer to the question) and a denial (NXDOMAIN or
// NODATA with an SOA, or a failure) each have a capacity in entries and a TTL range; a response
// is kept for its own TTL clamped to that range. Truncated answers and other errors are never kept.
import { sameName, skipName, walkMessage, type WalkedMessage } from "./message-walk.ts";
import { RCODE, TYPE } from "./records.ts";

export type CacheType = "success" | "denial";

export interface CacheCategory {
  /** Entries of this type kept at most (CoreDNS: 9984). */
  readonly capacity: number;
  /** Seconds an entry is kept at most, whatever its TTL says. */
  readonly maxTtl: number;
  /** Seconds an entry is kept at least, when its TTL says less (CoreDNS: 5; signpost: 0, the TTL). */
  readonly minTtl: number;
}

/** CoreDNS's `prefetch AMOUNT DURATION PERCENTAGE%`. */
export interface PrefetchPolicy {
  /** Hits, each less than `durationMs` after the one before, that make an entry popular. */
  readonly amount: number;
  readonly durationMs: number;
  /** A popular entry is refreshed once this share of its TTL is left (or 1 s). */
  readonly percentage: number;
}

/** CoreDNS's `serve_stale DURATION verify|immediate`, RFC 8767. */
export interface ServeStalePolicy {
  /** How long past its expiry an entry may still be served. */
  readonly durationMs: number;
  /** true: ask the upstreams first, serve the stale entry only if they fail; false: serve it at once and refresh. */
  readonly verify: boolean;
}

export interface ForwardCachePolicy {
  readonly success: CacheCategory;
  readonly denial: CacheCategory;
  readonly prefetch: PrefetchPolicy | null;
  readonly serveStale: ServeStalePolicy | null;
}

/** signpost's defaults: kubeadm's `cache 30` for successes, RFC 9520's 5 s for denials. */
export const DEFAULT_FORWARD_CACHE_POLICY: ForwardCachePolicy = {
  success: { capacity: 9984, maxTtl: 30, minTtl: 0 },
  denial: { capacity: 9984, maxTtl: 5, minTtl: 0 },
  prefetch: null,
  serveStale: null,
};

/** RFC 8767 §4: the TTL a stale answer is served with. */
export const STALE_ANSWER_TTL = 30;
/** RFC 8767 §4's failure recheck timer: after a failed refresh, the stale entry is served without asking for this long. */
export const FAILURE_RECHECK_MS = 30_000;

/** A response to `question` (name, type, class as on the wire) with no records: ID 0, RA, `rcode`. */
export function bareResponseFor(question: Uint8Array, rcode: number): Buffer {
  const out = Buffer.alloc(12 + question.length);
  out.writeUInt16BE(0x8180 | rcode, 2);
  out.writeUInt16BE(1, 4);
  out.set(question, 12);
  return out;
}

/** A SERVFAIL response to `question`, with ID 0 and RA. */
export function servfailFor(question: Uint8Array): Buffer {
  return bareResponseFor(question, RCODE.SERVFAIL);
}

/** What to keep a response as: seconds, type, and whether it is a failure (never served stale). */
export interface Kept {
  readonly ttl: number;
  readonly type: CacheType;
  readonly failure: boolean;
}

/** Seconds to keep a response, or null when it must not be cached. */
export function cacheTtl(response: Buffer, successTtl: number, denialTtl: number, servfailTtl = 0): number | null {
  const walked = walkMessage(response);
  const policy = { ...DEFAULT_FORWARD_CACHE_POLICY, success: { capacity: 1, maxTtl: successTtl, minTtl: 0 }, denial: { capacity: 1, maxTtl: denialTtl, minTtl: 0 } };
  return walked === null ? null : (classify(response, walked, policy, servfailTtl)?.ttl ?? null);
}

/** As CoreDNS's computeTTL: raised to minTtl, then capped at maxTtl. */
const clamp = (ttl: number, category: CacheCategory): number => Math.min(Math.max(ttl, category.minTtl), category.maxTtl);

/** How long to keep a response and under which type; null when it must not be cached. */
export function classify(response: Buffer, walked: WalkedMessage, policy: ForwardCachePolicy, servfailTtl: number): Kept | null {
  const flags = response.readUInt16BE(2);
  if ((flags & 0x0200) !== 0) return null; // truncated
  const rcode = flags & 0x0f;
  if (rcode === RCODE.SERVFAIL) return servfailTtl > 0 && walked.questionEnd > 12 ? { ttl: servfailTtl, type: "denial", failure: true } : null;
  if (rcode === 0 && chainAnswers(response, walked)) {
    let ttl = Number.MAX_SAFE_INTEGER;
    for (const r of walked.records) if (r.type !== TYPE.OPT) ttl = Math.min(ttl, response.readUInt32BE(r.ttlAt));
    ttl = clamp(ttl, policy.success);
    return ttl > 0 ? { ttl, type: "success", failure: false } : null;
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
  const ttl = clamp(Math.min(response.readUInt32BE(soa.ttlAt), response.readUInt32BE(rname + 16)), policy.denial);
  return ttl > 0 ? { ttl, type: "denial", failure: false } : null;
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
