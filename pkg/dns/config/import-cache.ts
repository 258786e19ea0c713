// CoreDNS's `cache` plugin as the DNSConfiguration's cache section, for `signpost-dns import`:
// `cache [TTL] [ZONES...] { success CAPACITY [TTL [MINTTL]]; denial ...; prefetch AMOUNT
// [DURATION [PERCENTAGE%]]; serve_stale [DURATION [immediate|verify]]; servfail DURATION }`.
// CoreDNS's defaults are written out (successes up to 3600 s, denials up to 1800 s, both at
// least 5 s) so the migrated cache keeps what it kept; signpost's own defaults are shorter.
import { parseDuration } from "../../cli/flags.ts";
import type { Directive } from "./corefile.ts";

interface CategoryOut {
  capacity?: number;
  maxTTL: string;
  minTTL: string;
}

export interface CacheOut {
  success: CategoryOut;
  denial: CategoryOut;
  prefetch?: { amount: number; duration?: string; percentage?: number };
  serveStale?: { duration: string; refreshMode: "immediate" | "verify" };
  servfailTTL?: string;
}

/** Something of the directive that is not carried over, with its line. */
export type CacheNote = (line: number, what: string, reason: string) => void;

/** CoreDNS's MinimalDefaultTTL. */
const COREDNS_MIN_TTL = 5;
const isCount = (text: string | undefined): text is string => text !== undefined && /^\d+$/.test(text);
const isDuration = (text: string | undefined): text is string => text !== undefined && !Number.isNaN(parseDuration(text));
/** signpost-dns serves stale answers from 1 s to a week after expiry. */
const staleDuration = (text: string): boolean => isDuration(text) && parseDuration(text) >= 1000 && parseDuration(text) <= 7 * 86_400_000;
const text = (d: Directive): string => [d.name, ...d.args].join(" ");

/** Seconds as the file writes a duration: "1h", "30m", "45s". */
const duration = (seconds: number): string => (seconds > 0 && seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds > 0 && seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`);

function category(maxTtl: number, minTtl = Math.min(COREDNS_MIN_TTL, maxTtl)): CategoryOut {
  return { maxTTL: duration(maxTtl), minTTL: duration(minTtl) };
}

/**
 * The cache section for a root block's `cache`; `clusterZone` names the zone whose
 * `disable success|denial` needs nothing (cluster answers are cached apart).
 */
export function convertCache(d: Directive, clusterZone: string | undefined, note: CacheNote): CacheOut {
  const [first, ...zones] = d.args;
  const ttl = isCount(first) && Number(first) > 0 ? Number(first) : undefined;
  const otherZones = (ttl === undefined ? d.args : zones).filter((z) => z !== ".");
  if (otherZones.length > 0) note(d.line, text(d), `caches only ${otherZones.join(" ")} in CoreDNS; signpost-dns caches every forwarded answer`);
  const maxTtl = { success: ttl ?? 3600, denial: ttl ?? 1800 };
  const out: CacheOut = { success: category(maxTtl.success), denial: category(maxTtl.denial) };
  for (const o of d.options) {
    const [a, b, c, ...more] = o.args;
    const kind = o.name === "success" || o.name === "denial" ? o.name : null;
    if (kind !== null && isCount(a) && more.length === 0 && (b === undefined || (isCount(b) && Number(b) > 0)) && (c === undefined || isCount(c))) {
      if (b !== undefined) maxTtl[kind] = Number(b);
      out[kind] = { capacity: Number(a), ...category(maxTtl[kind], c === undefined ? undefined : Math.min(Number(c), maxTtl[kind])) };
    } else if (o.name === "prefetch" && isCount(a) && c?.endsWith("%") !== false && more.length === 0 && (b === undefined || isDuration(b))) {
      const percentage = c === undefined ? undefined : Number(c.slice(0, -1));
      if (percentage !== undefined && !(percentage >= 10 && percentage <= 90)) note(o.line, `cache option ${text(o)}`, "its percentage is outside 10%..90%");
      else if (Number(a) > 0) out.prefetch = { amount: Number(a), ...(b === undefined ? {} : { duration: b }), ...(percentage === undefined ? {} : { percentage }) };
    } else if (o.name === "serve_stale" && c === undefined && (a === undefined || staleDuration(a)) && (b === undefined || b === "immediate" || b === "verify")) {
      out.serveStale = { duration: a ?? "1h", refreshMode: b ?? "immediate" };
    } else if (o.name === "servfail" && isDuration(a) && b === undefined) {
      out.servfailTTL = a;
    } else if (o.name === "disable" && o.args.length === 2 && clusterZone !== undefined && b?.toLowerCase().replace(/\.$/, "") === clusterZone) {
      // Cluster answers are cached apart, until the cluster changes.
    } else {
      note(o.line, `cache option ${text(o)}`, o.name === "keepttl" ? "has no equivalent: signpost-dns ages TTLs" : "has no equivalent in signpost-dns");
    }
  }
  return out;
}
