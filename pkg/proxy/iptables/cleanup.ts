// --cleanup: removes every rule and chain signpost-proxy installs, as kube-proxy's --cleanup
// does for its own: first each rule in a built-in chain that jumps to one of our chains, then our
// chains themselves (flushed, then deleted, in one restore per table). Chains of others, the
// kubelet's KUBE-KUBELET-CANARY or KUBE-FIREWALL for instance, are left alone.
import { isServiceChainName, KUBE_PROXY_CANARY } from "./chain-names.ts";
import { PROBE_CHAIN } from "./executor.ts";
import type { Iptables } from "./iptables.ts";
import { filterTopChains, natTopChains } from "./render-static.ts";
import type { TableName } from "./restore-parser.ts";
import { tokenize } from "./restore-parser.ts";

const builtin = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);
const fixed = new Set<string>([...filterTopChains, ...natTopChains, KUBE_PROXY_CANARY, PROBE_CHAIN]);

export function isOurChain(name: string): boolean {
  return fixed.has(name) || isServiceChainName(name);
}

export interface CleanupReport {
  readonly jumpsDeleted: number;
  readonly chainsDeleted: number;
}

export async function cleanupRules(iptables: Iptables): Promise<CleanupReport> {
  let jumpsDeleted = 0;
  let chainsDeleted = 0;
  for (const table of ["filter", "nat"] as const satisfies readonly TableName[]) {
    const saved = (await iptables.save(table)).split("\n");
    const ours: string[] = [];
    for (const line of saved) {
      if (!line.startsWith(":")) continue;
      const name = line.slice(1).split(" ")[0] ?? "";
      if (isOurChain(name)) ours.push(name);
    }
    for (const line of saved) {
      if (!line.startsWith("-A ")) continue;
      const words = tokenize(line);
      const chain = words[1] ?? "";
      const at = words.findIndex((w) => w === "-j" || w === "-g");
      const target = at < 0 ? "" : (words[at + 1] ?? "");
      if (!builtin.has(chain) || !isOurChain(target)) continue;
      if (await iptables.deleteRule(table, chain, words.slice(2))) jumpsDeleted++;
    }
    if (ours.length === 0) continue;
    const text = [`*${table}`, ...ours.map((c) => `:${c} - [0:0]`), ...ours.map((c) => `-X ${c}`), "COMMIT", ""].join("\n");
    await iptables.restore(text);
    chainsDeleted += ours.length;
  }
  return { jumpsDeleted, chainsDeleted };
}
