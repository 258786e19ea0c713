// What the proxier asks the kernel between restores: is the canary still there (someone may
// have flushed or deleted our chains), are the jumps from the built-in chains in place, and which
// per-Service chains exist (so a full sync deletes the ones nothing uses any more, including
// those left by an earlier run). A full sync reads iptables-save text once per table for the last
// two, and for whether the canary is intact (so it need not be written again).
import { isServiceChainName, KUBE_PROXY_CANARY } from "./chain-names.ts";
import type { Iptables } from "./iptables.ts";
import type { BuiltinJump } from "./render-static.ts";
import { builtinJumps, canaryRestoreText, canaryTables } from "./render-static.ts";

/** The nat and filter tables' iptables-save lines; at 10,000 Services the nat table is over 300,000 lines. */
export type SavedTables = readonly [nat: string[], filter: string[]];

/** What a full sync found in the kernel before rendering. */
export interface KernelBeforeFullSync {
  /** Per-Service chains of ours in the nat table. */
  readonly serviceChains: ReadonlySet<string>;
  readonly missingJumps: BuiltinJump[];
  /** The canary is not in place, and is written by the sync's restore. */
  readonly writeCanary: boolean;
}

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

/** Reads the nat and filter tables at once: two iptables-save processes side by side. */
export async function readTables(iptables: Iptables): Promise<SavedTables> {
  const [nat, filter] = await Promise.all([iptables.save("nat"), iptables.save("filter")]);
  return [nat.split("\n"), filter.split("\n")];
}

/**
 * What a full sync reads before it renders: our per-Service chains and which of the wanted jumps
 * from the built-in chains are missing. tablesRead is a read already started (readTables). The
 * canary must be in place before the tables are read: a flush after the read then leaves it
 * empty and is seen, even one that removes jumps this sync found in place. When the read shows
 * it intact (a restart on a node with rules, a periodic sync) it was there before. When it is
 * not, it is written on its own and the tables read again, unless the read found none of the
 * jumps in place (a node without our rules, as at a first start): a flush after that read takes
 * nothing this sync relies on, so the canary goes into the sync's restore. Not so when the sync
 * is staged, whose batches are restores before that one. Under iptables-legacy every restore
 * rewrites its whole table, at 10,000 Services a second's work, and each read or restore is a
 * process forked from the daemon.
 */
export async function readBeforeFullSync(iptables: Iptables, wanted: readonly BuiltinJump[], staged: boolean, tablesRead: Promise<SavedTables>): Promise<KernelBeforeFullSync> {
  const missingIn = ([nat, filter]: SavedTables) => [...missingBuiltinJumps("filter", filter, wanted), ...missingBuiltinJumps("nat", nat, wanted)];
  let tables = await tablesRead;
  let missingJumps = missingIn(tables);
  let writeCanary = false;
  if (!canaryIntactIn(tables[0]) || !canaryIntactIn(tables[1])) {
    if (missingJumps.length === wanted.length && !staged) {
      writeCanary = true;
    } else {
      await iptables.restore(canaryRestoreText());
      tables = await readTables(iptables);
      missingJumps = missingIn(tables);
    }
  }
  return { serviceChains: serviceChainsIn(tables[0]), missingJumps, writeCanary };
}
