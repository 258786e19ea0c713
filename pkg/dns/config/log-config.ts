// The `log` section of the --config file beyond `queries`: which classes of answers the query
// log writes (CoreDNS's `log { class ... }`), how many lines a second the query log and the error
// log may write (a flood of queries must not become a flood of disk), and CoreDNS's
// `errors { consolidate DURATION REGEXP [LEVEL] }`. All of it reloads live, as `queries` does.
import { parseDuration } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { errorMessage } from "../../errors/error-message.ts";

/** CoreDNS's log classes: success (NOERROR with records), denial (NXDOMAIN, NODATA), error (the rest, and no answer). */
export type LogClass = "all" | "success" | "denial" | "error";
export const LOG_CLASSES: readonly LogClass[] = ["all", "success", "denial", "error"];

export type ConsolidateLevel = "error" | "warning" | "info" | "debug";

/** Errors whose text matches `pattern` are counted for `periodMs` and logged as one line. */
export interface Consolidation {
  readonly periodMs: number;
  readonly pattern: RegExp;
  readonly level: ConsolidateLevel;
}

export interface LogSettings {
  readonly classes: readonly LogClass[];
  /** Lines a second the query log writes at most; the error log has its own budget of the same size. */
  readonly rate: number;
  readonly consolidate: readonly Consolidation[];
}

/** What the file sets of them; a field left out keeps its default. */
export interface LogFileSettings {
  classes?: LogClass[];
  rate?: number;
  consolidate?: Consolidation[];
}

/**
 * 100 lines a second is about 30 KB/s of JSON: enough to follow a debugging session, small
 * enough that a Pod sending 100,000 queries a second cannot fill a node's disk through it.
 */
export const DEFAULT_LOG_SETTINGS: LogSettings = { classes: ["all"], rate: 100, consolidate: [] };

const MAX_RATE = 100_000;
const MAX_CONSOLIDATIONS = 32;

function bad(path: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", path, message);
}

export function readLogClasses(value: unknown, path: string): LogClass[] {
  if (!Array.isArray(value) || value.length === 0) throw bad(path, `must be a list of at least one of ${LOG_CLASSES.join(", ")}`);
  return value.map((entry, i) => {
    if (!LOG_CLASSES.includes(entry as LogClass)) throw bad(`${path}[${i}]`, `${JSON.stringify(entry)} is not one of ${LOG_CLASSES.join(", ")}`);
    return entry as LogClass;
  });
}

export function readLogRate(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_RATE) {
    throw bad(path, `must be a whole number of lines a second from 1 to ${MAX_RATE}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** `errors: {consolidate: [{period, pattern, level}]}`. */
export function readErrorsSection(value: unknown, path: string): Consolidation[] {
  const fields = mapping(value, path);
  for (const name of Object.keys(fields)) {
    if (name !== "consolidate") throw bad(`${path}.${name}`, "is not a field of log.errors; known: consolidate");
  }
  const list = fields["consolidate"] ?? [];
  if (!Array.isArray(list) || list.length > MAX_CONSOLIDATIONS) throw bad(`${path}.consolidate`, `must be a list of at most ${MAX_CONSOLIDATIONS} {period, pattern, level} entries`);
  return list.map((entry, i) => consolidation(entry, `${path}.consolidate[${i}]`));
}

function consolidation(value: unknown, path: string): Consolidation {
  const fields = mapping(value, path);
  const known = ["period", "pattern", "level"];
  for (const name of Object.keys(fields)) {
    if (!known.includes(name)) throw bad(`${path}.${name}`, `is not a field of a consolidate entry; known: ${known.join(", ")}`);
  }
  const period = fields["period"];
  const periodMs = typeof period === "string" ? parseDuration(period) : Number.NaN;
  if (Number.isNaN(periodMs) || periodMs < 1000 || periodMs > 86_400_000) throw bad(`${path}.period`, `must be a duration from 1s to 24h (examples: 30s, 5m), not ${JSON.stringify(period)}`);
  const source = fields["pattern"];
  if (typeof source !== "string" || source === "") throw bad(`${path}.pattern`, "must be a regular expression, as a string");
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch (err) {
    throw bad(`${path}.pattern`, `${JSON.stringify(source)} is not a regular expression: ${errorMessage(err)}`);
  }
  const level = fields["level"] ?? "error";
  if (level !== "error" && level !== "warning" && level !== "info" && level !== "debug") throw bad(`${path}.level`, `${JSON.stringify(level)} is not one of error, warning, info, debug`);
  return { periodMs, pattern, level };
}

function mapping(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw bad(path, "must be a mapping");
  return value as Record<string, unknown>;
}

/** The file's settings over the defaults. */
export function logSettings(file: LogFileSettings | undefined): LogSettings {
  return { ...DEFAULT_LOG_SETTINGS, ...file };
}

/** The settings as the configuration log line and the reload comparison show them. */
export function describeLogSettings(settings: LogSettings): Record<string, unknown> {
  return {
    classes: settings.classes,
    rate: settings.rate,
    consolidate: settings.consolidate.map((c) => ({ periodMs: c.periodMs, pattern: c.pattern.source, level: c.level })),
  };
}
