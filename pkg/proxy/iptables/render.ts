// The iptables renderer: node-local desired state in, iptables-restore text out, no I/O. The
// text is meant for `iptables-restore --noflush`: top-level chains are rewritten whole on every
// sync; a partial sync rewrites only the chains of the Services that changed and the KUBE-DST
// chains whose rules changed (service-dispatch.ts), relying on the kernel still holding the
// others; chains of ours that are no longer used are flushed and deleted (-X), as kube-proxy
// does.

import type { ObjectKey } from "../../model/types.ts";
import type { ProxyState } from "../proxy-state.ts";
import { isServiceChainName, KUBE_MARK_MASQ, KUBE_NODEPORTS } from "./chain-names.ts";
import { RenderCache } from "./render-cache.ts";
import type { RenderConfig } from "./render-config.ts";
import type { BuiltinJump } from "./render-static.ts";
import { builtinJumpInserts, builtinJumpLines, builtinJumpsFor, writeFilterStatic, writeMarkMasqRule, writeNatStatic, writeNodePortsTail } from "./render-static.ts";
import { comment, tableSection, TableBuffer } from "./restore-writer.ts";
import { type DestinationRules, type DispatchChains, writeServicesChain } from "./service-dispatch.ts";

export interface RenderRequest {
  readonly state: ProxyState;
  readonly config: RenderConfig;
  /** null for a full sync; otherwise the Service keys whose chains must be rewritten. */
  readonly changed: ReadonlySet<ObjectKey> | null;
  /**
   * The per-Service nat chains that exist in the kernel now: the previous result's natChains,
   * or what iptables-save lists. Those no longer used are deleted; others are never touched.
   */
  readonly existingChains?: ReadonlySet<string>;
  /**
   * Also write the jumps from the built-in chains (PREROUTING, INPUT...), for a restore into a
   * fresh network namespace. The daemon leaves this off and passes insertJumps instead, since
   * --noflush would append them again on every sync.
   */
  readonly includeBuiltinJumps?: boolean;
  /**
   * Jumps from the built-in chains that the kernel lacks, prepended by this text: the daemon
   * reads which are there before a full sync, since on iptables-legacy each `iptables -C` or
   * `-I` after a large restore costs as much as reading and writing back the whole table.
   */
  readonly insertJumps?: readonly BuiltinJump[];
  /**
   * The KUBE-DST chains the kernel holds, with their rules: the previous result's
   * dispatchChains. A partial render leaves out those whose rules are unchanged; a full one
   * writes every chain.
   */
  readonly dispatchChains?: DispatchChains;
  /** Per-port output cache to reuse across syncs; a fresh one is made when absent. */
  readonly cache?: RenderCache;
  /**
   * Write the canary chains; by default only a full render does. A partial restore must leave
   * them alone: one that refilled a canary someone had just flushed would hide the flush while
   * the unchanged Services' chains stay empty.
   */
  readonly canary?: boolean;
}

export interface RenderResult {
  /** iptables-restore input: "*filter ... COMMIT" then "*nat ... COMMIT". */
  readonly text: string;
  /** Every per-Service nat chain the desired state uses; pass it as existingChains next time. */
  readonly natChains: ReadonlySet<string>;
  /** The KUBE-DST chains with their rules once this text is restored; pass it as dispatchChains next time. */
  readonly dispatchChains: DispatchChains;
  /** Chains this text deletes. */
  readonly deletedChains: readonly string[];
  /** Rules of the whole desired state per table, written or not (kube-proxy's rule-count metric). */
  readonly ruleCounts: { readonly filter: number; readonly nat: number };
  /** Rules this text appends per table (kube-proxy's sync_proxy_rules_iptables_last). */
  readonly writtenRules: { readonly filter: number; readonly nat: number };
  /** Services whose chains this text writes. */
  readonly writtenServices: number;
}

function sortedKeys(state: ProxyState): ObjectKey[] {
  return [...state.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function renderIptables(req: RenderRequest): RenderResult {
  const { state, config } = req;
  const cache = req.cache ?? new RenderCache();
  const filter = new TableBuffer();
  const natStatic = new TableBuffer();
  const natTop = new TableBuffer();
  const services: DestinationRules[] = [];
  const natChains = new TableBuffer();
  const activeChains = new Set<string>();
  let skippedRules = 0;

  const canary = req.canary ?? req.changed === null;
  writeFilterStatic(filter, config, canary);
  writeNatStatic(natStatic, config, canary);

  let writtenServices = 0;
  for (const key of sortedKeys(state)) {
    const ports = state.get(key) ?? [];
    const write = req.changed === null || req.changed.has(key);
    if (write) writtenServices++;
    for (const port of ports) {
      const out = cache.output(port, config);
      filter.appendFrom(out.filter);
      services.push(out.services);
      natTop.appendFrom(out.natTop);
      if (write) natChains.appendFrom(out.natChains);
      else skippedRules += out.natChains.ruleCount;
      for (const chain of out.activeChains) activeChains.add(chain);
    }
    const first = ports[0];
    if (first !== undefined && first.info.healthCheckNodePort !== 0) {
      // The LB's health checks must reach the health server whatever the node's firewall says.
      filter.append(
        KUBE_NODEPORTS,
        comment(`${key} health check node port`),
        "-m tcp -p tcp",
        `--dport ${first.info.healthCheckNodePort}`,
        "-j ACCEPT",
      );
    }
  }
  const dispatch = writeServicesChain(natTop, services, config.family, activeChains, req.changed === null ? undefined : req.dispatchChains);
  skippedRules += dispatch.unwrittenRules;
  writeNodePortsTail(natTop, config);

  const deletedChains: string[] = [];
  for (const chain of req.existingChains ?? []) {
    if (!activeChains.has(chain) && isServiceChainName(chain)) deletedChains.push(chain);
  }
  deletedChains.sort();
  for (const chain of deletedChains) natChains.deleteChain(chain);

  const jumps = req.includeBuiltinJumps === true;
  const extra = (table: BuiltinJump["table"]): string[] => (jumps ? builtinJumpLines(table, builtinJumpsFor(config)) : builtinJumpInserts(table, req.insertJumps ?? []));
  const filterExtra = extra("filter");
  const natExtra = extra("nat");
  const appended = (lines: readonly string[]): number => lines.filter((l) => l.startsWith("-A ")).length;
  const filterText = tableSection("filter", [filter], filterExtra);
  const natText = tableSection("nat", [natStatic, natTop, natChains], natExtra);
  return {
    text: `${filterText}\n${natText}\n`,
    natChains: activeChains,
    dispatchChains: dispatch.dispatchChains,
    deletedChains,
    // Rules in the kernel, so the canary's rule counts whether this text writes it or not.
    ruleCounts: {
      filter: filter.ruleCount + (canary ? 0 : 1),
      nat: natStatic.ruleCount + natTop.ruleCount + natChains.ruleCount + skippedRules + (canary ? 0 : 1),
    },
    writtenRules: {
      filter: filter.ruleCount + appended(filterExtra),
      nat: natStatic.ruleCount + natTop.ruleCount + natChains.ruleCount + appended(natExtra),
    },
    writtenServices,
  };
}

export interface StagedChains {
  /** iptables-restore input of one nat section. */
  readonly text: string;
  readonly rules: number;
}

/**
 * The per-Service chains of some Services, alone: nothing jumps to them yet. A large full sync
 * loads them in a few such batches and then restores a render with changed = the empty set,
 * which only rewrites the top-level chains and so switches traffic over in one atomic step;
 * iptables-nft's restore time grows much faster than linearly with the size of one input.
 * KUBE-MARK-MASQ, which these chains jump to, is rewritten unchanged so the jumps resolve.
 */
export function renderServiceChains(req: { state: ProxyState; config: RenderConfig; keys: readonly ObjectKey[]; cache?: RenderCache }): StagedChains {
  const cache = req.cache ?? new RenderCache();
  const nat = new TableBuffer();
  nat.declareChain(KUBE_MARK_MASQ);
  writeMarkMasqRule(nat);
  const chains = new TableBuffer();
  for (const key of req.keys) for (const port of req.state.get(key) ?? []) chains.appendFrom(cache.output(port, req.config).natChains);
  return { text: `${tableSection("nat", [nat, chains])}\n`, rules: nat.ruleCount + chains.ruleCount };
}

/** The Service keys of a state in the order the renderer writes them. */
export function renderOrder(state: ProxyState): ObjectKey[] {
  return sortedKeys(state);
}
