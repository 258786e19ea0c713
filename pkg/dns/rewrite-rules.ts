// CoreDNS's `rewrite name`: the question's name is matched against rules in order (exact,
// prefix, suffix, substring or a regular expression) and replaced before anything answers it;
// a matching rule stops the list unless it says `continue`. The answer's names are rewritten
// back so the client sees the name it asked: a name equal to the rewritten one becomes the
// asked one again (CoreDNS's `answer auto`), and a rule may add its own regular expression for
// other answer names (`answer name FROM TO`).

export type NameMatch = "exact" | "prefix" | "suffix" | "substring" | "regex";

export interface AnswerNameRule {
  readonly from: RegExp;
  /** With {1}, {2}... for the groups of `from`. */
  readonly to: string;
}

export interface RewriteRule {
  readonly match: NameMatch;
  /**
   * Lower-case; for regex, the expression's source. Rules match the name with its trailing dot,
   * as CoreDNS's do: exact names and suffixes end with one.
   */
  readonly from: string;
  /** Lower-case; for regex, a template with {1}, {2}... */
  readonly to: string;
  /** Set for regex rules. */
  readonly regex: RegExp | null;
  readonly answer: AnswerNameRule | null;
  /** Go on to the next rule after this one matched (CoreDNS's `continue`); else stop. */
  readonly continue: boolean;
}

export interface Rewrite {
  /** The name the question is asked with instead, lower-case without the trailing dot. */
  readonly name: string;
  /** The answer-name rules of the rules that matched, in order. */
  readonly answerRules: readonly AnswerNameRule[];
}

/** The name after the rules (`asked` and the result lower-case, without the trailing dot), or null when none matched (or the result is the same name). */
export function rewriteName(rules: readonly RewriteRule[], asked: string): Rewrite | null {
  if (rules.length === 0) return null;
  let name = `${asked}.`;
  const answerRules: AnswerNameRule[] = [];
  for (const rule of rules) {
    const next = applyRule(rule, name);
    if (next === null) continue;
    name = next;
    if (rule.answer !== null) answerRules.push(rule.answer);
    if (!rule.continue) break;
  }
  const result = normalize(name);
  return result === asked ? null : { name: result, answerRules };
}

function applyRule(rule: RewriteRule, name: string): string | null {
  switch (rule.match) {
    case "exact":
      return name === rule.from ? rule.to : null;
    case "prefix":
      return name.startsWith(rule.from) ? rule.to + name.slice(rule.from.length) : null;
    case "suffix":
      return name.endsWith(rule.from) ? name.slice(0, name.length - rule.from.length) + rule.to : null;
    case "substring":
      return name.includes(rule.from) ? name.replaceAll(rule.from, rule.to) : null;
    case "regex": {
      const groups = rule.regex?.exec(name);
      if (groups === null || groups === undefined) return null;
      const next = fillTemplate(rule.to, groups);
      return next.endsWith(".") ? next : `${next}.`;
    }
  }
}

/** {0} is the whole match, {1}... the groups; a group that did not take part is "". */
export function fillTemplate(template: string, groups: RegExpExecArray): string {
  return template.replace(/\{(\d+)\}/g, (_, n: string) => groups[Number(n)] ?? "");
}

/**
 * The name a client sees for `owner` in an answer to a rewritten question: the asked name for
 * the rewritten one, else the first answer rule that matches, else `owner` unchanged.
 */
export function revertName(owner: string, asked: string, rewrite: Rewrite): string {
  if (owner === rewrite.name) return asked;
  for (const rule of rewrite.answerRules) {
    const groups = rule.from.exec(`${owner}.`);
    if (groups !== null) return normalize(fillTemplate(rule.to, groups));
  }
  return owner;
}

function normalize(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** Whether a name fits the wire: labels of 1..63 octets, 255 octets in all. */
export function fitsWire(name: string): boolean {
  if (name === "") return true;
  const labels = name.split(".");
  return name.length + 2 <= 255 && labels.every((l) => l.length > 0 && l.length <= 63);
}
