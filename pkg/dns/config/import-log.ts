// `signpost-dns import` for CoreDNS's `log`, `errors` and `autopath` directives of the root
// server block: `log [.] { class ... }` becomes log.queries and log.classes, `errors { consolidate
// DURATION REGEXP [LEVEL] }` becomes log.errors.consolidate, and `autopath @kubernetes` becomes
// cluster.autopath when the kubernetes block has `pods verified` (without it CoreDNS's autopath
// does nothing, and signpost-dns refuses it). What has no equivalent is noted with its line.
import { parseDuration } from "../../cli/flags.ts";
import type { Directive } from "./corefile.ts";
import { LOG_CLASSES } from "./log-config.ts";

export type Note = (line: number, what: string, reason: string) => void;

const text = (d: Directive): string => [d.name, ...d.args].join(" ");

/** The log fields `log` sets, or null when it converts to nothing. */
export function convertLog(d: Directive, note: Note): { queries: true; classes?: string[] } | null {
  const [names = ".", ...format] = d.args;
  if (names !== "." || format.length > 0) {
    note(d.line, text(d), "signpost-dns logs the queries for every name, in its own JSON fields; no names or format");
    if (names !== ".") return null;
  }
  const classes: string[] = [];
  for (const o of d.options) {
    const known = o.args.map((c) => c.toLowerCase()).filter((c) => (LOG_CLASSES as readonly string[]).includes(c));
    if (o.name === "class" && known.length > 0 && known.length === o.args.length) classes.push(...known.filter((c) => !classes.includes(c)));
    else note(o.line, `log option ${text(o)}`, `has no equivalent; log.classes takes ${LOG_CLASSES.join(", ")}`);
  }
  return classes.length === 0 || classes.includes("all") ? { queries: true } : { queries: true, classes };
}

/** CoreDNS's error levels, as log.errors.consolidate[].level spells them. */
const LEVELS = new Set(["warning", "error", "info", "debug"]);

/** The consolidate entries of `errors`. */
export function convertErrors(d: Directive, note: Note): { period: string; pattern: string; level?: string }[] {
  const out: { period: string; pattern: string; level?: string }[] = [];
  if (d.args.length > 0) note(d.line, text(d), "signpost-dns writes errors to its own log (stdout)");
  for (const o of d.options) {
    const [period = "", pattern = "", level, ...more] = o.args;
    if (o.name !== "consolidate") {
      note(o.line, `errors option ${text(o)}`, o.name === "stacktrace" ? "no equivalent: signpost-dns has no plugin panics to trace" : "is not an errors option signpost-dns knows");
      continue;
    }
    const ms = parseDuration(period);
    if (Number.isNaN(ms) || ms < 1000 || ms > 86_400_000 || !isRegExp(pattern) || (level !== undefined && !LEVELS.has(level)) || more.length > 0) {
      note(o.line, `errors option ${text(o)}`, "takes a duration from 1s to 24h, a regular expression signpost-dns can read, and a level (warning, error, info, debug)");
      continue;
    }
    out.push({ period, pattern, ...(level === undefined ? {} : { level }) });
  }
  return out;
}

function isRegExp(source: string): boolean {
  if (source === "") return false;
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Whether `autopath` converts to cluster.autopath: true. */
export function convertAutopath(d: Directive, pods: string | undefined, note: Note): boolean {
  if (d.args.length !== 1 || d.args[0] !== "@kubernetes" || d.options.length > 0) {
    note(d.line, text(d), "only `autopath @kubernetes` has an equivalent (cluster.autopath), without zones; a search path from a resolv.conf of its own has none");
    return false;
  }
  if (pods !== "verified") {
    note(d.line, text(d), `needs the kubernetes plugin's \`pods verified\` (here ${pods ?? "disabled, the default"}), without which CoreDNS's autopath does nothing`);
    return false;
  }
  return true;
}
