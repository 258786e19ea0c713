// Command-line flags for both daemons: declared once with their help text, parsed strictly, and
// every problem reported as SP_BAD_FLAG naming the flag, so `--nodeport-adresses` fails at once
// instead of being ignored.
import { parseArgs } from "node:util";
import { ERRORS_DOC, SignpostError } from "../errors/errors.ts";
import { errorMessage } from "../errors/error-message.ts";

export interface FlagSpec {
  readonly type: "string" | "boolean" | "duration" | "integer" | "size";
  readonly help: string;
  readonly default?: string | boolean | number;
  /** For string flags: the only values allowed. */
  readonly choices?: readonly string[];
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValues = Readonly<Record<string, string | boolean | number | undefined>>;

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration ("1s", "500ms", "1m30s", and "0" as Go takes it) into milliseconds; NaN if malformed. */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (durationUnits[m[2] ?? ""] ?? Number.NaN);
    matched += m[0].length;
  }
  return text !== "" && matched === text.length ? total : Number.NaN;
}

const sizeUnits: Readonly<Record<string, number>> = { "": 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/**
 * Parses a size in bytes as Kubernetes writes quantities ("32Mi", "64Ki", "1G", "1048576")
 * into a number of bytes; NaN if malformed.
 */
export function parseSize(text: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(text);
  if (match === null) return Number.NaN;
  return Number(match[1]) * (sizeUnits[match[2] ?? ""] ?? Number.NaN);
}

/**
 * "--oom-score-adj -999" as "--oom-score-adj=-999": parseArgs takes a value that starts with a
 * dash for another flag, but a negative number after an integer flag is its value, as Go's
 * pflag reads it (kube-proxy's command lines are written that way).
 */
function joinNegativeNumbers(argv: readonly string[], specs: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const next = argv[i + 1];
    const spec = arg.startsWith("--") ? specs[arg.slice(2)] : undefined;
    if (spec?.type === "integer" && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function parseFlags(argv: readonly string[], specs: FlagSpecs): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type === "boolean" ? "boolean" : "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(argv, specs), options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    const message = errorMessage(err);
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "command line";
    throw new SignpostError("SP_BAD_FLAG", flag, message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  // parseArgs keeps the last of a repeated flag; a repeated flag is more likely a mistake.
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== "option") continue;
    if (seen.has(t.name)) throw new SignpostError("SP_BAD_FLAG", `--${t.name}`, "given more than once");
    seen.add(t.name);
  }
  const values: Record<string, string | boolean | number | undefined> = { help: parsed.values["help"] === true };
  for (const [name, spec] of Object.entries(specs)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      values[name] = spec.default;
      continue;
    }
    values[name] = convert(name, spec, raw);
  }
  return { values, positionals: parsed.positionals };
}

function convert(name: string, spec: FlagSpec, raw: string | boolean | (string | boolean)[]): string | boolean | number {
  if (Array.isArray(raw)) throw new SignpostError("SP_BAD_FLAG", `--${name}`, "given more than once");
  if (spec.type === "boolean") return raw === true;
  const text = String(raw);
  switch (spec.type) {
    case "duration": {
      const ms = parseDuration(text);
      if (Number.isNaN(ms)) throw new SignpostError("SP_BAD_FLAG", `--${name}`, `"${text}" is not a duration (examples: 1s, 500ms, 1m30s)`);
      return ms;
    }
    case "size": {
      const bytes = parseSize(text);
      if (Number.isNaN(bytes)) throw new SignpostError("SP_BAD_FLAG", `--${name}`, `"${text}" is not a size in bytes (examples: 32Mi, 512Ki, 1048576)`);
      return bytes;
    }
    case "integer": {
      if (!/^-?\d+$/.test(text)) throw new SignpostError("SP_BAD_FLAG", `--${name}`, `"${text}" is not an integer`);
      return Number(text);
    }
    default:
      if (spec.choices !== undefined && !spec.choices.includes(text)) {
        throw new SignpostError("SP_BAD_FLAG", `--${name}`, `"${text}" is not one of ${spec.choices.join(", ")}`);
      }
      return text;
  }
}

const argNames: Readonly<Record<FlagSpec["type"], string>> = { boolean: "", duration: "DURATION", integer: "N", size: "SIZE", string: "VALUE" };

/** A flag and its help in two columns; a flag too long for its column keeps two spaces before the help. */
function helpLine(flag: string, help: string): string {
  const head = `  ${flag}`;
  return `${head.length <= 32 ? head.padEnd(34) : `${head}  `}${help}`;
}

export function renderHelp(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`usage: ${command} [flags]`, "", summary, "", "flags:"];
  for (const [name, spec] of Object.entries(specs)) {
    const arg = spec.type === "boolean" ? "" : ` ${argNames[spec.type]}`;
    const def = spec.default === undefined || spec.default === "" ? "" : ` (default ${String(spec.default)})`;
    lines.push(helpLine(`--${name}${arg}`, spec.help + def));
  }
  lines.push(helpLine("--help", "show this help"));
  lines.push("", `Errors start with a code (SP_BAD_FLAG, ...); each code's cause and fix: ${ERRORS_DOC} in signpost's repository.`);
  return lines.join("\n") + "\n";
}

export function stringFlag(values: FlagValues, name: string): string {
  const v = values[name];
  return typeof v === "string" ? v : "";
}

export function numberFlag(values: FlagValues, name: string): number {
  const v = values[name];
  return typeof v === "number" ? v : 0;
}
