// What the proxier asks the kernel between restores: is the canary still there (someone may
// have flushed or deleted our chains), are the jumps from the built-in chains in place, and which
// per-Service chains exist (so a full sync deletes the ones nothing uses any more, including
// those left by an earlier run). A full sync reads iptables-save text once per table for the last
// two, and for whether the canary is intact (so it need not be written again).
import { isServiceChainName, KUBE_PROXY_CANARY } from "./chain-names.ts";
import type { Iptables } from "./iptables.ts";
import type { BuiltinJump } from "./render-static.ts";
import { builtinJumps, canaryTables } from "./render-static.ts";

/** The tables whose canary is gone or emptied; empty when all are intact. */
export async function flushedTables(iptables: Iptables): Promise<string[]> {
  const out: string[] = [];
  for (const table of canaryTables) {
    const rules = await iptables.chainRules(table, KUBE_PROXY_CANARY);
    if (rules === null || rules.length === 0) out.push(table);
  }
  return out;
}

/** Whether the lines of a table's iptables-save hold the canary with a rule: what flushedTables calls intact. */
export function canaryIntactIn(saved: readonly string[]): boolean {
  const rule = `-A ${KUBE_PROXY_CANARY} `;
  return saved.some((line) => line.startsWith(rule));
}

/** Per-Service chains of ours in the lines of iptables-save's nat table. */
export function serviceChainsIn(natSaved: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const line of natSaved) {
    if (!line.startsWith(":")) continue;
    const name = line.slice(1).split(" ")[0] ?? "";
    if (isServiceChainName(name)) out.add(name);
  }
  return out;
}

/**
 * The jumps (builtinJumps unless told) for this table that the lines of its iptables-save lack.
 * A rule counts as the jump when it is in the right chain, jumps to the right target and carries
 * its comment; a jump without a comment (the kubelet's kind) must be the whole rule.
 */
export function missingBuiltinJumps(table: BuiltinJump["table"], saved: readonly string[], jumps: readonly BuiltinJump[] = builtinJumps): BuiltinJump[] {
  const wanted = jumps.filter((j) => j.table === table);
  const builtin = saved.filter((l) => wanted.some((j) => l.startsWith(`-A ${j.chain} `)));
  const present = (j: BuiltinJump, l: string): boolean =>
    j.comment === null ? l === `-A ${j.chain} ${j.rule}` : l.startsWith(`-A ${j.chain} `) && l.endsWith(` -j ${j.target}`) && l.includes(`--comment ${j.comment}`);
  return wanted.filter((j) => !builtin.some((l) => present(j, l)));
}
