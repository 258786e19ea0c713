// Writes one table of iptables-restore input: chain lines (":CHAIN - [0:0]", which create or,
// under --noflush, flush a chain), then rules, then chain deletions. Values from the API only
// ever reach the text through comment(), which cannot be broken out of.

export type RuleArg = string | readonly string[];

/** iptables' comment match holds at most 255 bytes. */
const MAX_COMMENT = 255;

/**
 * A comment argument, always double-quoted. Characters outside a conservative set are replaced,
 * so no name, however odd, can end the quoted string or add an option; API names are DNS labels
 * and lose nothing.
 */
export function quoteComment(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9 ._:/>;,=+@()[\]-]/g, "_").slice(0, MAX_COMMENT);
  return `"${safe}"`;
}

export function comment(text: string): readonly string[] {
  return ["-m", "comment", "--comment", quoteComment(text)];
}

/** Adds the arguments of a rule to `parts`, empty ones left out. */
function pushArgs(parts: string[], args: readonly RuleArg[]): string[] {
  for (const a of args) {
    if (typeof a === "string") {
      if (a !== "") parts.push(a);
    } else if (a.length > 0) {
      parts.push(a.join(" "));
    }
  }
  return parts;
}

/** The arguments of one rule joined, empty ones left out. */
export function ruleSpec(args: readonly RuleArg[]): string {
  return pushArgs([], args).join(" ");
}

/** A chain line, one flat string (see append). */
export function chainLine(chain: string): string {
  return [":", chain, " - [0:0]"].join("");
}

/** The lines of one table, or of one Service port's share of it. */
export class TableBuffer {
  readonly #chainLines: string[] = [];
  readonly #rules: string[] = [];
  readonly #deletions: string[] = [];

  declareChain(chain: string): void {
    this.#chainLines.push(chainLine(chain));
  }

  /**
   * Appends a rule. The line is made by one join, so it is one flat string: lines built by
   * concatenation are V8 rope strings, and the render cache keeps every line of every Service
   * (at 1,000 Services, 167,000 rope nodes and 3 MiB of heap more).
   */
  append(chain: string, ...args: RuleArg[]): void {
    this.#rules.push(pushArgs(["-A", chain], args).join(" "));
  }

  /** Appends a rule whose spec (what follows "-A CHAIN ") is already joined. */
  appendSpec(chain: string, spec: string): void {
    this.#rules.push(spec === "" ? `-A ${chain}` : `-A ${chain} ${spec}`);
  }

  /** Flushes then deletes a chain: iptables wants the chain line before "-X". */
  deleteChain(chain: string): void {
    this.#chainLines.push(chainLine(chain));
    this.#deletions.push(`-X ${chain}`);
  }

  /** Copies a small buffer's lines after this one's (one Service port's output). */
  appendFrom(other: TableBuffer): void {
    for (const line of other.#chainLines) this.#chainLines.push(line);
    for (const line of other.#rules) this.#rules.push(line);
    for (const line of other.#deletions) this.#deletions.push(line);
  }

  get ruleCount(): number {
    return this.#rules.length;
  }

  chainLines(): readonly string[] {
    return this.#chainLines;
  }

  rules(): readonly string[] {
    return this.#rules;
  }

  deletions(): readonly string[] {
    return this.#deletions;
  }
}

/**
 * Assembles one "*table ... COMMIT" section from buffers, chain lines of all first. Joined per
 * buffer rather than spread into one array: a large cluster has hundreds of thousands of lines.
 */
export function tableSection(table: string, buffers: readonly TableBuffer[], extraRules: readonly string[] = []): string {
  const parts = [`*${table}`];
  const add = (lines: readonly string[]): void => {
    if (lines.length > 0) parts.push(lines.join("\n"));
  };
  for (const b of buffers) add(b.chainLines());
  for (const b of buffers) add(b.rules());
  add(extraRules);
  for (const b of buffers) add(b.deletions());
  parts.push("COMMIT");
  return parts.join("\n");
}
