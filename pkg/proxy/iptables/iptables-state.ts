// An in-memory netfilter rule set that applies iptables-restore input with the kernel's rules:
// a table section is all or nothing, --noflush keeps what the text does not name, a chain line
// creates or flushes a chain, a jump needs its chain to exist, and "-X" refuses a chain that is
// still referenced or not empty. Tests apply a full sync then partial syncs to it and compare
// with a fresh full sync; the packet tracer walks it.

import type { Rule, TableName } from "./restore-parser.ts";
import { parseRestore, ruleTargetChain } from "./restore-parser.ts";

const builtinChains: Readonly<Record<TableName, readonly string[]>> = {
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  raw: ["PREROUTING", "OUTPUT"],
};

interface Chain {
  readonly builtin: boolean;
  policy: string;
  rules: Rule[];
}

type Table = Map<string, Chain>;

export class RestoreError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`iptables-restore: line ${line} failed: ${message}`);
    this.name = "RestoreError";
    this.line = line;
  }
}

export interface RestoreOptions {
  /** Keep chains and rules the input does not name (iptables-restore --noflush). */
  readonly noflush: boolean;
}

function freshTable(name: TableName): Table {
  const t: Table = new Map();
  for (const c of builtinChains[name]) t.set(c, { builtin: true, policy: "ACCEPT", rules: [] });
  return t;
}

function copyTable(t: Table): Table {
  const out: Table = new Map();
  for (const [name, c] of t) out.set(name, { builtin: c.builtin, policy: c.policy, rules: [...c.rules] });
  return out;
}

function referenced(t: Table, chain: string): boolean {
  for (const c of t.values()) {
    if (c.rules.some((r) => ruleTargetChain(r) === chain)) return true;
  }
  return false;
}

export class IptablesState {
  readonly #tables = new Map<TableName, Table>();

  constructor() {
    for (const name of Object.keys(builtinChains) as TableName[]) this.#tables.set(name, freshTable(name));
  }

  /** Applies restore input; a failing table section leaves that table as it was. */
  restore(text: string, options: RestoreOptions = { noflush: true }): void {
    for (const section of parseRestore(text)) {
      const base = this.#tables.get(section.table) ?? freshTable(section.table);
      const t = options.noflush ? copyTable(base) : freshTable(section.table);
      for (const op of section.operations) {
        switch (op.op) {
          case "chain": {
            const existing = t.get(op.chain);
            if (existing?.builtin === true) {
              if (op.policy !== "-") existing.policy = op.policy;
            } else if (existing !== undefined) {
              existing.rules = [];
            } else {
              if (op.policy !== "-") throw new RestoreError(op.line, `policy on user chain ${op.chain}`);
              t.set(op.chain, { builtin: false, policy: "-", rules: [] });
            }
            break;
          }
          case "append":
          case "insert": {
            const chain = t.get(op.rule.chain);
            if (chain === undefined) throw new RestoreError(op.line, `no chain ${op.rule.chain}`);
            const target = ruleTargetChain(op.rule);
            if (target !== null && !t.has(target)) throw new RestoreError(op.line, `Couldn't load target \`${target}'`);
            if (op.op === "append") chain.rules.push(op.rule);
            else {
              if (op.position < 1 || op.position > chain.rules.length + 1) throw new RestoreError(op.line, "index of insertion too big");
              chain.rules.splice(op.position - 1, 0, op.rule);
            }
            break;
          }
          case "delete-chain": {
            const chain = t.get(op.chain);
            if (chain === undefined) throw new RestoreError(op.line, `no chain ${op.chain}`);
            if (chain.builtin) throw new RestoreError(op.line, `cannot delete built-in chain ${op.chain}`);
            if (chain.rules.length > 0) throw new RestoreError(op.line, `chain ${op.chain} is not empty`);
            if (referenced(t, op.chain)) throw new RestoreError(op.line, `chain ${op.chain} is still referenced`);
            t.delete(op.chain);
            break;
          }
          case "flush": {
            const chain = t.get(op.chain);
            if (chain === undefined) throw new RestoreError(op.line, `no chain ${op.chain}`);
            chain.rules = [];
            break;
          }
          case "new-chain":
            if (t.has(op.chain)) throw new RestoreError(op.line, `chain ${op.chain} already exists`);
            t.set(op.chain, { builtin: false, policy: "-", rules: [] });
            break;
        }
      }
      this.#tables.set(section.table, t);
    }
  }

  hasChain(table: TableName, chain: string): boolean {
    return this.#tables.get(table)?.has(chain) ?? false;
  }

  /** Chain names of a table: built-in ones first, then the rest sorted. */
  chains(table: TableName): string[] {
    const t = this.#tables.get(table);
    if (t === undefined) return [];
    const builtin = [...t.entries()].filter(([, c]) => c.builtin).map(([n]) => n);
    const user = [...t.entries()].filter(([, c]) => !c.builtin).map(([n]) => n).sort();
    return [...builtin, ...user];
  }

  rules(table: TableName, chain: string): readonly Rule[] {
    return this.#tables.get(table)?.get(chain)?.rules ?? [];
  }

  policy(table: TableName, chain: string): string {
    return this.#tables.get(table)?.get(chain)?.policy ?? "ACCEPT";
  }

  /** Empties every chain of a table and deletes none, as `iptables -t T -F` would. */
  flushRules(table: TableName): void {
    for (const chain of this.#tables.get(table)?.values() ?? []) chain.rules = [];
  }

  /** Deletes a table's chains and rules, as `iptables -t T -F; iptables -t T -X` would. */
  flushTable(table: TableName): void {
    this.#tables.set(table, freshTable(table));
  }

  /** iptables-save-like text of the tables that hold anything, with stable chain order. */
  save(tables: readonly TableName[] = ["filter", "nat"]): string {
    const lines: string[] = [];
    for (const table of tables) {
      lines.push(`*${table}`);
      for (const chain of this.chains(table)) lines.push(`:${chain} ${this.policy(table, chain)} [0:0]`);
      for (const chain of this.chains(table)) {
        for (const rule of this.rules(table, chain)) lines.push(rule.spec === "" ? `-A ${chain}` : `-A ${chain} ${rule.spec}`);
      }
      lines.push("COMMIT");
    }
    return `${lines.join("\n")}\n`;
  }
}
