// A forward entry's transport options, CoreDNS forward's `force_tcp`, `prefer_udp`,
// `max_concurrent` and `expire`: read from the --config file with their paths in errors, and
// resolved to the values a forwarder runs with (defaults filled in).
import { parseDuration } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { DEFAULT_EXPIRE_MS } from "../upstream-pool.ts";

/** What a forward entry sets; absent fields take the defaults. */
export interface ForwardOptions {
  readonly forceTcp?: boolean;
  readonly preferUdp?: boolean;
  readonly maxConcurrent?: number;
  readonly expireMs?: number;
}

export interface ResolvedForwardOptions {
  /** Every query goes upstream over TCP. */
  readonly forceTcp: boolean;
  /** true (default): UDP first whatever the client used, TCP when truncated; false: the client's transport. */
  readonly preferUdp: boolean;
  /** Upstream queries of the zone in flight at most; more are REFUSED. 0: no bound (default). */
  readonly maxConcurrent: number;
  /** An idle pooled TCP connection is closed after this long; 10 s (CoreDNS's default). */
  readonly expireMs: number;
}

export const FORWARD_OPTION_FIELDS = ["forceTcp", "preferUdp", "maxConcurrent", "expire"] as const;

const MAX_CONCURRENT = 1_000_000;
const MAX_EXPIRE_MS = 3_600_000;

function bad(path: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", path, message);
}

function flag(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw bad(path, `must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

/** The options of one forward entry, `fields` its mapping and `at` its path ("forward[1]"). */
export function readForwardOptions(fields: Readonly<Record<string, unknown>>, at: string): ForwardOptions {
  const forceTcp = flag(fields["forceTcp"], `${at}.forceTcp`);
  const preferUdp = flag(fields["preferUdp"], `${at}.preferUdp`);
  if (forceTcp === true && preferUdp === true) throw bad(`${at}.preferUdp`, "contradicts forceTcp: true; give one of them");
  const out: { forceTcp?: boolean; preferUdp?: boolean; maxConcurrent?: number; expireMs?: number } = {};
  if (forceTcp !== undefined) out.forceTcp = forceTcp;
  if (preferUdp !== undefined) out.preferUdp = preferUdp;
  const max = fields["maxConcurrent"];
  if (max !== undefined && max !== null) {
    if (typeof max !== "number" || !Number.isInteger(max) || max < 0 || max > MAX_CONCURRENT) {
      throw bad(`${at}.maxConcurrent`, `must be a whole number from 0 (no bound) to ${MAX_CONCURRENT}, not ${JSON.stringify(max)}`);
    }
    out.maxConcurrent = max;
  }
  const expire = fields["expire"];
  if (expire !== undefined && expire !== null) {
    const ms = typeof expire === "string" ? parseDuration(expire) : Number.NaN;
    if (Number.isNaN(ms)) throw bad(`${at}.expire`, `${JSON.stringify(expire)} is not a duration (examples: 10s, 1m)`);
    if (ms < 0 || ms > MAX_EXPIRE_MS) throw bad(`${at}.expire`, "must be from 0s (a connection per query) to 1h");
    out.expireMs = ms;
  }
  return out;
}

export function resolveForwardOptions(options: ForwardOptions): ResolvedForwardOptions {
  const forceTcp = options.forceTcp ?? false;
  return {
    forceTcp,
    preferUdp: !forceTcp && (options.preferUdp ?? true),
    maxConcurrent: options.maxConcurrent ?? 0,
    expireMs: options.expireMs ?? DEFAULT_EXPIRE_MS,
  };
}

/** The options that differ from the defaults, for the configuration's log line. */
export function describeForwardOptions(options: ResolvedForwardOptions): Record<string, unknown> {
  const defaults = resolveForwardOptions({});
  const keys = Object.keys(defaults) as (keyof ResolvedForwardOptions)[];
  return Object.fromEntries(keys.filter((key) => options[key] !== defaults[key]).map((key) => [key, options[key]]));
}
