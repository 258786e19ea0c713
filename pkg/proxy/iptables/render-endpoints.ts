// The endpoint end of a Service port: the policy chain (KUBE-SVC or KUBE-SVL) that spreads new
// connections over endpoints with equal random shares, sticky for a while under ClientIP
// affinity, and one KUBE-SEP chain per endpoint that marks hairpin traffic and DNATs.

import type { EndpointInfo } from "../slice-endpoints.ts";
import type { ServicePortInfo } from "../service-ports.ts";
import type { ChainNamer } from "./chain-names.ts";
import { KUBE_MARK_MASQ } from "./chain-names.ts";
import type { TableBuffer } from "./restore-writer.ts";
import { comment } from "./restore-writer.ts";

/**
 * The probability that the i-th of n remaining endpoints is picked, as kube-proxy prints it
 * (Go's %0.10f): rule k of n matches with 1/(n-k), which gives every endpoint 1/n overall.
 */
export function probability(remaining: number): string {
  return (1 / remaining).toFixed(10);
}

export interface EndpointRuleContext {
  readonly nat: TableBuffer;
  readonly namer: ChainNamer;
  readonly omitComments: boolean;
}

/** Writes the jumps from a policy chain to its endpoints; the chain is declared by the caller. */
export function writePolicyChainRules(
  ctx: EndpointRuleContext,
  port: ServicePortInfo,
  chain: string,
  endpoints: readonly EndpointInfo[],
): void {
  const { nat, namer } = ctx;
  const note = (ep: EndpointInfo): readonly string[] => (ctx.omitComments ? [] : comment(`${port.name} -> ${ep.address}`));
  if (port.affinitySeconds > 0) {
    // A client seen recently goes back to the endpoint it had, before any random pick.
    for (const ep of endpoints) {
      const sep = namer.endpoint(port, ep.address);
      nat.append(chain, note(ep), `-m recent --name ${sep} --rcheck --seconds ${port.affinitySeconds} --reap`, `-j ${sep}`);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const sep = namer.endpoint(port, ep.address);
    const pick = i < n - 1 ? `-m statistic --mode random --probability ${probability(n - i)}` : "";
    nat.append(chain, note(ep), pick, `-j ${sep}`);
  });
}

/** Declares and writes one KUBE-SEP chain per endpoint; returns their names. */
export function writeEndpointChains(ctx: EndpointRuleContext, port: ServicePortInfo, endpoints: readonly EndpointInfo[]): string[] {
  const { nat, namer } = ctx;
  const proto = port.protocol.toLowerCase();
  const note = ctx.omitComments ? [] : comment(port.name);
  const names: string[] = [];
  for (const ep of endpoints) {
    const sep = namer.endpoint(port, ep.address);
    names.push(sep);
    nat.declareChain(sep);
    // Hairpin: a pod reaching itself through the Service must be masqueraded, or the reply
    // would skip the DNAT on its way back.
    nat.append(sep, note, `-s ${ep.ip}`, `-j ${KUBE_MARK_MASQ}`);
    const affinity = port.affinitySeconds > 0 ? `-m recent --name ${sep} --set` : "";
    nat.append(sep, note, affinity, `-m ${proto} -p ${proto}`, `-j DNAT --to-destination ${ep.address}`);
  }
  return names;
}
