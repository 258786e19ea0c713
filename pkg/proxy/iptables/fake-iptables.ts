// An Iptables that applies everything to an in-memory rule set (iptables-state.ts) with the
// kernel's semantics, for proxier tests: a restore that refers to a missing chain fails as the
// real one would, and a test can flush a table or make the next restore fail.
import type { IPFamily, Protocol } from "../../model/types.ts";
import type { Iptables, IptablesCapabilities } from "./iptables.ts";
import { RestoreFailure } from "./iptables.ts";
import { IptablesState, RestoreError } from "./iptables-state.ts";
import type { TableName } from "./restore-parser.ts";
import { linesAround } from "./restore-failure.ts";

/** Joins rule words back into restore syntax, quoting words with spaces as iptables-save does. */
function ruleSpec(rule: readonly string[]): string {
  return rule.map((w) => (/[\s"]/.test(w) || w === "" ? `"${w.replace(/"/g, '\\"')}"` : w)).join(" ");
}

export class FakeIptables implements Iptables {
  readonly family: IPFamily;
  readonly kernel = new IptablesState();
  /** Every restore text applied or refused, in order. */
  readonly restores: string[] = [];
  /** Every table read by save, in order. */
  readonly saves: TableName[] = [];
  #failNext: string | null = null;
  readonly #caps: IptablesCapabilities;

  constructor(family: IPFamily = "IPv4", protocols: readonly Protocol[] = ["TCP", "UDP", "SCTP"]) {
    this.family = family;
    this.#caps = { randomFully: false, protocols: new Set(protocols), backend: "nft" };
  }

  /** Makes the next restore fail with this message, as if the kernel refused it. */
  failNextRestore(message: string): void {
    this.#failNext = message;
  }

  async restore(text: string): Promise<void> {
    await Promise.resolve();
    this.restores.push(text);
    if (this.#failNext !== null) {
      const message = this.#failNext;
      this.#failNext = null;
      throw new RestoreFailure("fake-iptables-restore", message, 2, linesAround(text, 2));
    }
    try {
      this.kernel.restore(text, { noflush: true });
    } catch (err) {
      if (err instanceof RestoreError) throw new RestoreFailure("fake-iptables-restore", err.message, err.line, linesAround(text, err.line));
      throw err;
    }
  }

  async save(table: TableName): Promise<string> {
    await Promise.resolve();
    this.saves.push(table);
    return this.kernel.save([table]);
  }

  async chainRules(table: TableName, chain: string): Promise<string[] | null> {
    await Promise.resolve();
    if (!this.kernel.hasChain(table, chain)) return null;
    return this.kernel.rules(table, chain).map((r) => `-A ${chain} ${r.spec}`);
  }

  async deleteRule(table: TableName, chain: string, rule: readonly string[]): Promise<boolean> {
    await Promise.resolve();
    const spec = ruleSpec(rule);
    // Like iptables -D, the first identical rule only.
    const kept = [...this.kernel.rules(table, chain)];
    const at = kept.findIndex((r) => r.spec === spec);
    if (at < 0) return false;
    kept.splice(at, 1);
    const lines = [`*${table}`, `-F ${chain}`, ...kept.map((r) => `-A ${chain} ${r.spec}`), "COMMIT"];
    this.kernel.restore(lines.join("\n"), { noflush: true });
    return true;
  }

  async capabilities(): Promise<IptablesCapabilities> {
    await Promise.resolve();
    return this.#caps;
  }
}
