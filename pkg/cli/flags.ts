// Command-line flags for both daemons: declared once with their help text, parsed strictly, and
// every problem reported as SP_BAD_FLAG naming the flag, so `--nodeport-adresses` fails at once
// instead of being ignored.
import { parseArgs } from "node:util";
import { SignpostError } from "../errors/errors.ts";

export interface FlagSpec {
  readonly type: "string" | "boolean" | "duration" | "integer";
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

export function parseFlags(argv: readonly string[], specs: FlagSpecs): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type === "boolean" ? "boolean" : "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
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

export function renderHelp(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`usage: ${command} [flags]`, "", summary, "", "flags:"];
  for (const [name, spec] of Object.entries(specs)) {
    const arg = spec.type === "boolean" ? "" : ` ${spec.type === "duration" ? "DURATION" : spec.type === "integer" ? "N" : "VALUE"}`;
    const def = spec.default === undefined || spec.default === "" ? "" : ` (default ${String(spec.default)})`;
    lines.push(`  --${name}${arg}`.padEnd(34) + spec.help + def);
  }
  lines.push(`  --help`.padEnd(34) + "show this help");
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
