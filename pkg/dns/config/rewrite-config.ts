// The `rewrite` list of the DNS configuration (CoreDNS's `rewrite name`): each rule matches the
// question's name exactly, by prefix, suffix, substring or a regular expression, and gives the
// name to ask instead. A regular expression that does not compile is refused by its field.
import type { AnswerNameRule, NameMatch, RewriteRule } from "../rewrite-rules.ts";
import { bad, boolean, mapping, string } from "./dns-config-file.ts";
import { errorMessage } from "../../errors/error-message.ts";

const MATCHES: readonly NameMatch[] = ["exact", "prefix", "suffix", "substring", "regex"];
const fields = ["match", "from", "to", "answer", "continue"];
/** Names are at most 255 octets; a longer pattern is a mistake, and a bound on matching work. */
const MAX_PATTERN = 1024;

export function parseRewriteRules(value: unknown, path: string): RewriteRule[] {
  if (!Array.isArray(value)) throw bad(path, "must be a list of {match, from, to} rules");
  return value.map((entry, i) => rule(entry, `${path}[${i}]`));
}

function rule(value: unknown, path: string): RewriteRule {
  const m = mapping(value, path);
  for (const name of Object.keys(m)) {
    if (!fields.includes(name)) throw bad(`${path}.${name}`, `is not a field of a rewrite rule; known: ${fields.join(", ")}`);
  }
  const matchValue = m["match"] ?? "exact";
  if (typeof matchValue !== "string" || !MATCHES.includes(matchValue as NameMatch)) {
    throw bad(`${path}.match`, `${JSON.stringify(matchValue)} is not one of ${MATCHES.join(", ")}`);
  }
  const match = matchValue as NameMatch;
  const from = string(m["from"], `${path}.from`);
  const to = string(m["to"], `${path}.to`);
  if (from === "" || from.length > MAX_PATTERN) throw bad(`${path}.from`, `must be 1 to ${MAX_PATTERN} characters`);
  if (to.length > MAX_PATTERN) throw bad(`${path}.to`, `must be at most ${MAX_PATTERN} characters`);
  const answer = m["answer"] === undefined || m["answer"] === null ? null : answerRule(m["answer"], `${path}.answer`);
  const cont = m["continue"] === undefined || m["continue"] === null ? false : boolean(m["continue"], `${path}.continue`);
  if (match === "regex") return { match, from, to: to.toLowerCase(), regex: compile(from, `${path}.from`), answer, continue: cont };
  return { match, from: plainName(from, match), to: plainName(to, match), regex: null, answer, continue: cont };
}

/** `answer: {from: REGEX, to: TEMPLATE}`: answer names matching `from` become `to` (CoreDNS's `answer name`). */
function answerRule(value: unknown, path: string): AnswerNameRule {
  const m = mapping(value, path);
  for (const name of Object.keys(m)) {
    if (name !== "from" && name !== "to") throw bad(`${path}.${name}`, "is not a field of answer; known: from, to");
  }
  const from = string(m["from"], `${path}.from`);
  if (from.length > MAX_PATTERN) throw bad(`${path}.from`, `must be at most ${MAX_PATTERN} characters`);
  return { from: compile(from, `${path}.from`), to: string(m["to"], `${path}.to`).toLowerCase() };
}

function compile(source: string, path: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw bad(path, `${JSON.stringify(source)} is not a regular expression: ${errorMessage(err)}`);
  }
}

/**
 * Lower-case; rules match the name with its trailing dot, as CoreDNS's do, so an exact name and
 * a suffix get one ("example.org" and "example.org." are the same rule) and a prefix or a
 * substring stays as written.
 */
function plainName(text: string, match: NameMatch): string {
  const lower = text.toLowerCase();
  if (match === "prefix" || match === "substring" || lower.endsWith(".")) return lower;
  return `${lower}.`;
}
