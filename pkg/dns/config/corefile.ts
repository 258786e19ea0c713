// Reads a Corefile into its server blocks and their directives, each with the line it stands on,
// for `signpost-dns import`. It knows Caddy's layout (keys, then `{`, one directive a line, an
// optional `{ ... }` of options after a directive) but no plugin: that is import-corefile.ts.
import { SignpostError } from "../../errors/errors.ts";

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  readonly line: number;
  readonly options: readonly Directive[];
}

export interface ServerBlock {
  /** As written: ".:53", "example.corp:53", "dns://."; none for a line outside any block. */
  readonly keys: readonly string[];
  readonly line: number;
  readonly directives: readonly Directive[];
}

/** Whitespace-separated tokens of a line, quotes kept together, a `#` comment dropped. */
function tokens(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of text.matchAll(re)) {
    if (m[2]?.startsWith("#") === true) break;
    out.push(m[1] ?? m[2] ?? "");
  }
  return out;
}

interface Open {
  readonly name: string;
  readonly args: string[];
  readonly line: number;
  readonly children: Directive[];
}

export function parseCorefile(text: string, file: string): ServerBlock[] {
  const blocks: ServerBlock[] = [];
  // The server block being read, then the directive whose options are being read, if any.
  const stack: Open[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = i + 1;
    const words = tokens(raw);
    while (words.length > 0) {
      const word = words.shift() ?? "";
      if (word === "}") {
        const done = stack.pop();
        if (done === undefined) throw new SignpostError("SP_BAD_CONFIG", `${file}:${line}`, "a } closes nothing");
        const parent = stack.at(-1);
        if (parent === undefined) blocks.push({ keys: [done.name, ...done.args], line: done.line, directives: done.children });
        else parent.children.push({ name: done.name, args: done.args, line: done.line, options: done.children });
        continue;
      }
      // A line is one entry: its first word names it, the rest are arguments up to a `{`.
      const args: string[] = [];
      let opens = false;
      let keyWords = [word];
      if (word.endsWith("{") && word !== "{" && stack.length === 0) {
        keyWords = [word.slice(0, -1)];
        opens = true;
      }
      while (!opens && words.length > 0 && words[0] !== "}") {
        const next = words.shift() ?? "";
        if (next === "{") opens = true;
        else args.push(next);
      }
      const [name = "", ...rest] = [...keyWords, ...args];
      if (name === "{") throw new SignpostError("SP_BAD_CONFIG", `${file}:${line}`, "a { without a server block's address or a directive before it");
      if (opens) {
        stack.push({ name, args: rest, line, children: [] });
      } else if (stack.length === 0) {
        // Keys on a line of their own, the `{` on the next: Caddy allows it; so do we.
        // Else a line outside any block (`import FILE`): a block with no keys holds it.
        const next = tokens(lines[i + 1] ?? "");
        if (next[0] !== "{") {
          blocks.push({ keys: [], line, directives: [{ name, args: rest, line, options: [] }] });
          continue;
        }
        stack.push({ name, args: rest, line, children: [] });
        lines[i + 1] = (lines[i + 1] ?? "").replace("{", "");
      } else {
        stack.at(-1)?.children.push({ name, args: rest, line, options: [] });
      }
    }
  });
  if (stack.length > 0) throw new SignpostError("SP_BAD_CONFIG", `${file}:${stack.at(-1)?.line ?? 0}`, "this block is not closed by a }");
  return blocks;
}
