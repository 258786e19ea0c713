// --cleanup: removes every rule and chain signpost-proxy installs, as kube-proxy's --cleanup
// does for its own: first each rule in a built-in chain that jumps to one of our chains, then our
// chains themselves (flushed, then deleted, in one restore per table). Chains of others, the
// kubelet's KUBE-KUBELET-CANARY for instance, are left alone.
//
// KUBE-FIREWALL, the localnet guard, is shared with the kubelet, which keeps the same rule, and
// kube-proxy's cleanup leaves it. We remove it too, but only once route_localnet is off again
// (on every interface): a node left with route_localnet on and no guard is CVE-2020-8558 open.
import { isServiceChainName, KUBE_FIREWALL, KUBE_PROXY_CANARY } from "./chain-names.ts";
import { PROBE_CHAIN } from "./executor.ts";
import { NODE_LOCAL_CHAIN, NODE_LOCAL_OUTPUT_CHAIN } from "../node-local/notrack-render.ts";
import type { Iptables } from "./iptables.ts";
import { filterTopChains, natTopChains } from "./render-static.ts";
import type { TableName } from "./restore-parser.ts";
import { tokenize } from "./restore-parser.ts";

const builtin = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);
const fixed = new Set<string>([...filterTopChains, ...natTopChains, KUBE_PROXY_CANARY, PROBE_CHAIN, NODE_LOCAL_CHAIN, NODE_LOCAL_OUTPUT_CHAIN]);

export function isOurChain(name: string): boolean {
  return fixed.has(name) || isServiceChainName(name);
}

export interface CleanupOptions {
  /**
   * Turns net.ipv4.conf.all.route_localnet off and tells whether it is now off on every
   * interface; the localnet guard goes only then. Without it the guard stays.
   */
  readonly routeLocalnetOff?: () => Promise<boolean>;
}

/** What became of the localnet guard: there was none, it was removed, or it had to stay. */
export type GuardOutcome = "absent" | "removed" | "kept";

export interface CleanupReport {
  readonly jumpsDeleted: number;
  readonly chainsDeleted: number;
  readonly localnetGuard: GuardOutcome;
}

function chainNames(saved: readonly string[]): string[] {
  return saved.filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0] ?? "");
}

/** Whether the guard may go: only IPv4 has it, and only once route_localnet is off. */
async function guardOutcome(iptables: Iptables, filterChains: readonly string[], options: CleanupOptions): Promise<GuardOutcome> {
  if (iptables.family !== "IPv4" || !filterChains.includes(KUBE_FIREWALL)) return "absent";
  if (options.routeLocalnetOff === undefined) return "kept";
  try {
    return (await options.routeLocalnetOff()) ? "removed" : "kept";
  } catch {
    // A sysctl we may not write (a read-only /proc/sys): the guard is what still protects.
    return "kept";
  }
}

export async function cleanupRules(iptables: Iptables, options: CleanupOptions = {}): Promise<CleanupReport> {
  let jumpsDeleted = 0;
  let chainsDeleted = 0;
  let localnetGuard: GuardOutcome = "absent";
  for (const table of ["filter", "nat", "raw"] as const satisfies readonly TableName[]) {
    const saved = (await iptables.save(table)).split("\n");
    const chains = chainNames(saved);
    if (table === "filter") localnetGuard = await guardOutcome(iptables, chains, options);
    const ours = (name: string): boolean => isOurChain(name) || (table === "filter" && name === KUBE_FIREWALL && localnetGuard === "removed");
    for (const line of saved) {
      if (!line.startsWith("-A ")) continue;
      const words = tokenize(line);
      const chain = words[1] ?? "";
      const at = words.findIndex((w) => w === "-j" || w === "-g");
      const target = at < 0 ? "" : (words[at + 1] ?? "");
      if (!builtin.has(chain) || !ours(target)) continue;
      if (await iptables.deleteRule(table, chain, words.slice(2))) jumpsDeleted++;
    }
    const doomed = chains.filter(ours);
    if (doomed.length === 0) continue;
    const text = [`*${table}`, ...doomed.map((c) => `:${c} - [0:0]`), ...doomed.map((c) => `-X ${c}`), "COMMIT", ""].join("\n");
    await iptables.restore(text);
    chainsDeleted += doomed.length;
  }
  return { jumpsDeleted, chainsDeleted, localnetGuard };
}
