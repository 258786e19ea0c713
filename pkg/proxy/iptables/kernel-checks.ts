// What the proxier asks the kernel between restores: is the canary still there (someone may
// have flushed or deleted our chains), are the jumps from the built-in chains in place, and which
// per-Service chains exist (so a full sync deletes the ones nothing uses any more, including
// those left by an earlier run).
import { isServiceChainName, KUBE_PROXY_CANARY } from "./chain-names.ts";
import type { Iptables } from "./iptables.ts";
import { builtinJumps, canaryTables } from "./render-static.ts";
import { tokenize } from "./restore-parser.ts";

/** The tables whose canary is gone or emptied; empty when all are intact. */
export async function flushedTables(iptables: Iptables): Promise<string[]> {
  const out: string[] = [];
  for (const table of canaryTables) {
    const rules = await iptables.chainRules(table, KUBE_PROXY_CANARY);
    if (rules === null || rules.length === 0) out.push(table);
  }
  return out;
}

/**
 * Puts each jump from a built-in chain in place unless it is there already. kube-proxy prepends
 * them, so they are inserted last to first to end up in builtinJumps' order. Returns the jumps added.
 */
export async function ensureBuiltinJumps(iptables: Iptables): Promise<string[]> {
  const added: string[] = [];
  for (const jump of [...builtinJumps].reverse()) {
    if (await iptables.ensureRule("prepend", jump.table, jump.chain, tokenize(jump.rule))) added.push(`${jump.table}/${jump.chain} -> ${jump.target}`);
  }
  return added;
}

/** Per-Service chains of ours in the kernel's nat table. */
export async function serviceChainsInKernel(iptables: Iptables): Promise<Set<string>> {
  const out = new Set<string>();
  for (const line of (await iptables.save("nat")).split("\n")) {
    if (!line.startsWith(":")) continue;
    const name = line.slice(1).split(" ")[0] ?? "";
    if (isServiceChainName(name)) out.add(name);
  }
  return out;
}
