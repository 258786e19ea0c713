// Reads iptables-restore text back into structured rules: the tokenizer follows iptables-restore's
// own quoting (double quotes, backslash escapes inside them), and each rule is parsed into the
// matches and target signpost writes. It backs the packet tracer, the jump-consistency check and
// the in-memory iptables used by tests. An option it does not know is an error, not a guess.

export type TableName = "filter" | "nat" | "mangle" | "raw";

export type Match =
  | { readonly kind: "source"; readonly cidr: string; readonly negate: boolean }
  | { readonly kind: "destination"; readonly cidr: string; readonly negate: boolean }
  /** -i NAME, or NAME+ for every interface whose name starts with NAME. */
  | { readonly kind: "inInterface"; readonly name: string; readonly negate: boolean }
  | { readonly kind: "protocol"; readonly protocol: string; readonly negate: boolean }
  | { readonly kind: "dport"; readonly port: number; readonly negate: boolean }
  | { readonly kind: "addrtype"; readonly which: "src" | "dst"; readonly type: string; readonly negate: boolean }
  | { readonly kind: "comment"; readonly text: string }
  | { readonly kind: "mark"; readonly value: number; readonly mask: number; readonly negate: boolean }
  | { readonly kind: "statistic"; readonly probability: number }
  | { readonly kind: "recent"; readonly name: string; readonly mode: "set" | "rcheck"; readonly seconds: number }
  | { readonly kind: "conntrack"; readonly states: readonly string[]; readonly negate: boolean };

export type Target =
  | { readonly kind: "jump"; readonly chain: string }
  | { readonly kind: "goto"; readonly chain: string }
  | { readonly kind: "verdict"; readonly verdict: "ACCEPT" | "DROP" | "REJECT" | "RETURN" }
  | { readonly kind: "dnat"; readonly to: string }
  | { readonly kind: "masquerade"; readonly randomFully: boolean }
  | { readonly kind: "mark"; readonly op: "or" | "xor" | "set"; readonly value: number; readonly mask: number };

export interface Rule {
  /** The rule as written after "-A CHAIN" (quotes kept). */
  readonly spec: string;
  readonly chain: string;
  readonly matches: readonly Match[];
  /** null: a rule with no target (it only counts packets). */
  readonly target: Target | null;
}

export type Operation =
  | { readonly op: "chain"; readonly chain: string; readonly policy: string; readonly line: number }
  | { readonly op: "append"; readonly rule: Rule; readonly line: number }
  | { readonly op: "insert"; readonly rule: Rule; readonly position: number; readonly line: number }
  | { readonly op: "delete-chain"; readonly chain: string; readonly line: number }
  | { readonly op: "flush"; readonly chain: string; readonly line: number }
  | { readonly op: "new-chain"; readonly chain: string; readonly line: number };

export interface TableSection {
  readonly table: TableName;
  readonly operations: readonly Operation[];
}

export class RestoreParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "RestoreParseError";
    this.line = line;
  }
}

/** Splits a line into words the way iptables-restore does. */
export function tokenize(line: string, lineNo = 0): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? "";
    if (quoted) {
      if (c === "\\" && i + 1 < line.length) {
        word += line[++i] ?? "";
      } else if (c === '"') {
        quoted = false;
      } else {
        word += c;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (c === " " || c === "\t") {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quoted) throw new RestoreParseError(lineNo, "unterminated quoted string");
  if (inWord) out.push(word);
  return out;
}

function parseNumber(text: string | undefined, lineNo: number, what: string): number {
  if (text === undefined || !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) {
    throw new RestoreParseError(lineNo, `bad ${what}: ${String(text)}`);
  }
  return Number(text);
}

function parseMarkValue(text: string | undefined, lineNo: number): { value: number; mask: number } {
  const [v, m] = (text ?? "").split("/");
  return { value: parseNumber(v, lineNo, "mark"), mask: m === undefined ? 0xffffffff : parseNumber(m, lineNo, "mask") };
}

const verdicts = new Set(["ACCEPT", "DROP", "REJECT", "RETURN"]);
/** Extension targets signpost never writes: refused rather than mistaken for chain names. */
const otherTargets = new Set([
  "SNAT", "REDIRECT", "LOG", "NFLOG", "NFQUEUE", "TPROXY", "CT", "NOTRACK", "CONNMARK", "TCPMSS",
  "CLASSIFY", "TRACE", "SET", "CHECKSUM", "TOS", "TTL", "DSCP", "AUDIT", "NETMAP", "SECMARK",
]);

/** Parses the words of a rule after "-A CHAIN" (or "-I CHAIN [n]"). */
export function parseRuleWords(chain: string, words: readonly string[], spec: string, lineNo = 0): Rule {
  const matches: Match[] = [];
  let target: Target | null = null;
  let negate = false;
  const recent: { used: boolean; name: string; mode: "set" | "rcheck" | null; seconds: number } = {
    used: false,
    name: "DEFAULT",
    mode: null,
    seconds: 0,
  };
  let i = 0;
  const next = (): string => {
    const w = words[++i];
    if (w === undefined) throw new RestoreParseError(lineNo, `missing value after ${words[i - 1] ?? ""}`);
    return w;
  };
  const takeNegate = (): boolean => {
    const n = negate;
    negate = false;
    return n;
  };
  for (; i < words.length; i++) {
    const w = words[i] ?? "";
    switch (w) {
      case "!":
        negate = true;
        break;
      case "-s":
      case "--source":
        matches.push({ kind: "source", cidr: next(), negate: takeNegate() });
        break;
      case "-d":
      case "--destination":
        matches.push({ kind: "destination", cidr: next(), negate: takeNegate() });
        break;
      case "-i":
      case "--in-interface":
        matches.push({ kind: "inInterface", name: next(), negate: takeNegate() });
        break;
      case "-p":
      case "--protocol":
        matches.push({ kind: "protocol", protocol: next().toLowerCase(), negate: takeNegate() });
        break;
      case "-m":
      case "--match":
        // Modules only introduce options; the options themselves carry the meaning.
        next();
        break;
      case "--dport":
      case "--destination-port":
        matches.push({ kind: "dport", port: parseNumber(next(), lineNo, "port"), negate: takeNegate() });
        break;
      case "--src-type":
        matches.push({ kind: "addrtype", which: "src", type: next(), negate: takeNegate() });
        break;
      case "--dst-type":
        matches.push({ kind: "addrtype", which: "dst", type: next(), negate: takeNegate() });
        break;
      case "--comment":
        matches.push({ kind: "comment", text: next() });
        break;
      case "--mark": {
        const { value, mask } = parseMarkValue(next(), lineNo);
        matches.push({ kind: "mark", value, mask, negate: takeNegate() });
        break;
      }
      case "--mode":
        if (next() !== "random") throw new RestoreParseError(lineNo, "only statistic --mode random is supported");
        break;
      case "--probability":
        matches.push({ kind: "statistic", probability: Number(next()) });
        break;
      case "--name":
        recent.used = true;
        recent.name = next();
        break;
      case "--set":
      case "--rcheck":
        recent.used = true;
        recent.mode = w === "--set" ? "set" : "rcheck";
        break;
      case "--seconds":
        recent.used = true;
        recent.seconds = parseNumber(next(), lineNo, "seconds");
        break;
      case "--reap":
        break;
      case "--ctstate":
        matches.push({ kind: "conntrack", states: next().split(","), negate: takeNegate() });
        break;
      case "-j":
      case "--jump":
      case "-g":
      case "--goto": {
        const name = next();
        if (w === "-g" || w === "--goto") target = { kind: "goto", chain: name };
        else if (verdicts.has(name)) target = { kind: "verdict", verdict: name as "ACCEPT" | "DROP" | "REJECT" | "RETURN" };
        else if (name === "DNAT") target = { kind: "dnat", to: "" };
        else if (name === "MASQUERADE") target = { kind: "masquerade", randomFully: false };
        else if (name === "MARK") target = { kind: "mark", op: "set", value: 0, mask: 0xffffffff };
        else if (otherTargets.has(name)) throw new RestoreParseError(lineNo, `unsupported target ${name}`);
        else target = { kind: "jump", chain: name };
        break;
      }
      case "--to-destination":
        if (target?.kind !== "dnat") throw new RestoreParseError(lineNo, "--to-destination without -j DNAT");
        target = { kind: "dnat", to: next() };
        break;
      case "--random-fully":
        if (target?.kind !== "masquerade") throw new RestoreParseError(lineNo, "--random-fully without -j MASQUERADE");
        target = { kind: "masquerade", randomFully: true };
        break;
      case "--or-mark":
      case "--xor-mark":
      case "--set-xmark": {
        if (target?.kind !== "mark") throw new RestoreParseError(lineNo, `${w} without -j MARK`);
        const { value, mask } = parseMarkValue(next(), lineNo);
        const op = w === "--or-mark" ? "or" : w === "--xor-mark" ? "xor" : "set";
        target = { kind: "mark", op, value, mask };
        break;
      }
      case "--reject-with":
        next();
        break;
      default:
        throw new RestoreParseError(lineNo, `unsupported option ${w}`);
    }
  }
  if (negate) throw new RestoreParseError(lineNo, "dangling !");
  if (recent.used) {
    if (recent.mode === null) throw new RestoreParseError(lineNo, "-m recent without --set or --rcheck");
    matches.push({ kind: "recent", name: recent.name, mode: recent.mode, seconds: recent.seconds });
  }
  return { spec, chain, matches, target };
}

const tables = new Set<string>(["filter", "nat", "mangle", "raw"]);

/** The text of a line after its first n unquoted words. */
function afterWords(line: string, n: number): string {
  let rest = line.trimStart();
  for (let k = 0; k < n; k++) {
    const space = rest.search(/\s/);
    rest = space < 0 ? "" : rest.slice(space).trimStart();
  }
  return rest;
}

/** Parses a whole restore input into its table sections. */
export function parseRestore(text: string): TableSection[] {
  const sections: TableSection[] = [];
  let current: { table: TableName; operations: Operation[] } | null = null;
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const line = (lines[index] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("*")) {
      if (current !== null) throw new RestoreParseError(lineNo, `table ${current.table} not committed`);
      const name = line.slice(1);
      if (!tables.has(name)) throw new RestoreParseError(lineNo, `unknown table ${name}`);
      current = { table: name as TableName, operations: [] };
      continue;
    }
    if (current === null) throw new RestoreParseError(lineNo, "line outside a table");
    if (line === "COMMIT") {
      sections.push(current);
      current = null;
      continue;
    }
    const ops = current.operations;
    if (line.startsWith(":")) {
      const [chain = "", policy = "-"] = line.slice(1).split(/\s+/);
      ops.push({ op: "chain", chain, policy, line: lineNo });
      continue;
    }
    const words = tokenize(line, lineNo);
    const [flag, chain] = words;
    if (chain === undefined) throw new RestoreParseError(lineNo, `missing chain in "${line}"`);
    switch (flag) {
      case "-A":
        ops.push({ op: "append", rule: parseRuleWords(chain, words.slice(2), afterWords(line, 2), lineNo), line: lineNo });
        continue;
      case "-I": {
        const hasPos = /^[0-9]+$/.test(words[2] ?? "");
        const position = hasPos ? Number(words[2]) : 1;
        const rule = parseRuleWords(chain, words.slice(hasPos ? 3 : 2), afterWords(line, hasPos ? 3 : 2), lineNo);
        ops.push({ op: "insert", rule, position, line: lineNo });
        continue;
      }
      case "-X":
        ops.push({ op: "delete-chain", chain, line: lineNo });
        continue;
      case "-F":
        ops.push({ op: "flush", chain, line: lineNo });
        continue;
      case "-N":
        ops.push({ op: "new-chain", chain, line: lineNo });
        continue;
      default:
        throw new RestoreParseError(lineNo, `unsupported command ${String(flag)}`);
    }
  }
  if (current !== null) throw new RestoreParseError(lines.length, "missing COMMIT");
  return sections;
}

/** The chains a rule can pass control to. */
export function ruleTargetChain(rule: Rule): string | null {
  return rule.target?.kind === "jump" || rule.target?.kind === "goto" ? rule.target.chain : null;
}
