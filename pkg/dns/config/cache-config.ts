// The forward cache's policy in the --config file's `cache:` section, CoreDNS cache's options:
//   success: {capacity: 9984, maxTTL: 30s, minTTL: 0s}      # success CAPACITY TTL MINTTL
//   denial: {capacity: 9984, maxTTL: 5s, minTTL: 0s}        # denial CAPACITY TTL MINTTL
//   prefetch: {amount: 10, duration: 1m, percentage: 10}    # prefetch AMOUNT DURATION PERCENTAGE%
//   serveStale: {duration: 1h, refreshMode: immediate}      # serve_stale DURATION immediate|verify
// Each read where it stands with its path in errors, then resolved over signpost's defaults.
import { parseDuration } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { type CacheCategory, DEFAULT_FORWARD_CACHE_POLICY, type ForwardCachePolicy, type PrefetchPolicy, type ServeStalePolicy } from "../cache-policy.ts";

/** What the file sets; a category's absent fields keep the defaults. */
export interface CachePolicyFields {
  success?: Partial<CacheCategory>;
  denial?: Partial<CacheCategory>;
  prefetch?: PrefetchPolicy;
  serveStale?: ServeStalePolicy;
}

const MAX_CAPACITY = 10_000_000;
/** CoreDNS's largest TTLs: 3600 s for successes, 1800 s for denials; a day is allowed here. */
const MAX_TTL_S = 86_400;
/** RFC 8767 §5 suggests stale data be kept 1 to 3 days; a week at most. */
const MAX_STALE_MS = 7 * 86_400_000;

function bad(path: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", path, message);
}

function mapping(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw bad(path, `must be a mapping of ${known.join(", ")}`);
  const fields = value as Record<string, unknown>;
  for (const name of Object.keys(fields)) if (!known.includes(name)) throw bad(`${path}.${name}`, `is not a field of ${path.split(".").at(-1) ?? path}; known: ${known.join(", ")}`);
  return fields;
}

function wholeNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) throw bad(path, `must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return value;
}

function durationMs(value: unknown, path: string, minMs: number, maxMs: number, range: string): number {
  const ms = typeof value === "string" ? parseDuration(value) : Number.NaN;
  if (Number.isNaN(ms)) throw bad(path, `${JSON.stringify(value)} is not a duration (examples: 30s, 5m, 1h)`);
  if (ms < minMs || ms > maxMs) throw bad(path, `must be from ${range}`);
  return ms;
}

const seconds = (value: unknown, path: string): number => Math.floor(durationMs(value, path, 0, MAX_TTL_S * 1000, "0s to 24h") / 1000);

/** `success` or `denial`: capacity in entries, maxTTL and minTTL as durations (whole seconds count). */
export function readCacheCategory(value: unknown, path: string): Partial<CacheCategory> {
  const fields = mapping(value, path, ["capacity", "maxTTL", "minTTL"]);
  const out: { capacity?: number; maxTtl?: number; minTtl?: number } = {};
  if (fields["capacity"] !== undefined) out.capacity = wholeNumber(fields["capacity"], `${path}.capacity`, 0, MAX_CAPACITY);
  if (fields["maxTTL"] !== undefined) out.maxTtl = seconds(fields["maxTTL"], `${path}.maxTTL`);
  if (fields["minTTL"] !== undefined) out.minTtl = seconds(fields["minTTL"], `${path}.minTTL`);
  return out;
}

export function readPrefetch(value: unknown, path: string): PrefetchPolicy {
  const fields = mapping(value, path, ["amount", "duration", "percentage"]);
  if (fields["amount"] === undefined) throw bad(`${path}.amount`, "is required: how many queries make an entry popular (CoreDNS's prefetch AMOUNT)");
  return {
    amount: wholeNumber(fields["amount"], `${path}.amount`, 1, 1_000_000),
    durationMs: fields["duration"] === undefined ? 60_000 : durationMs(fields["duration"], `${path}.duration`, 1000, 86_400_000, "1s to 24h"),
    // CoreDNS takes 10% to 90%.
    percentage: fields["percentage"] === undefined ? 10 : wholeNumber(fields["percentage"], `${path}.percentage`, 10, 90),
  };
}

export function readServeStale(value: unknown, path: string): ServeStalePolicy {
  const fields = mapping(value, path, ["duration", "refreshMode"]);
  const mode = fields["refreshMode"] ?? "immediate";
  if (mode !== "immediate" && mode !== "verify") throw bad(`${path}.refreshMode`, `${JSON.stringify(mode)} is not one of immediate, verify`);
  return {
    durationMs: fields["duration"] === undefined ? 3_600_000 : durationMs(fields["duration"], `${path}.duration`, 1000, MAX_STALE_MS, "1s to 168h"),
    verify: mode === "verify",
  };
}

/** The policy the cache runs with; `where` names the file. minTTL above maxTTL is refused. */
export function resolveCachePolicy(fields: CachePolicyFields | undefined, where: string): ForwardCachePolicy {
  const category = (name: "success" | "denial"): CacheCategory => {
    const merged = { ...DEFAULT_FORWARD_CACHE_POLICY[name], ...fields?.[name] };
    if (merged.minTtl > merged.maxTtl) throw bad(`${where}: cache.${name}.minTTL`, `${merged.minTtl}s is above maxTTL ${merged.maxTtl}s`);
    return merged;
  };
  return { success: category("success"), denial: category("denial"), prefetch: fields?.prefetch ?? null, serveStale: fields?.serveStale ?? null };
}
