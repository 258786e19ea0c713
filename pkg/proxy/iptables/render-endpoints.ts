// The endpoint end of a Service port: the policy chain (KUBE-SVC or KUBE-SVL) that spreads new
// connections over endpoints with equal random shares, sticky for a while under ClientIP
// affinity, and a KUBE-SEP chain for each endpoint that needs one: it marks hairpin traffic and
// DNATs.
//
// Where signpost departs from kube-proxy: an endpoint on another node is DNATed straight from
// the policy chain, with no KUBE-SEP chain of its own. Hairpin traffic (a pod reaching itself
// through the Service) can only come from a client whose packets this node DNATs without
// masquerading them anyway: a client on this node, so only a local endpoint can be its own
// client. Two exceptions keep a chain for every endpoint: session affinity, since `-m recent`
// needs a name per endpoint, and externalTrafficPolicy Local on a port reachable from outside,
// whose KUBE-EXT sends pod traffic from other nodes to the Cluster chain unmasqueraded. So does
// an endpoint whose node is not known. On iptables-legacy every user chain costs the kernel two
// entries and libiptc a sorted insert, so at 10,000 Services x 10 endpoints this takes the nat
// table from 430,000 to 160,000 lines and a full restore from 13.4 s to 2.7 s.

import type { EndpointInfo } from "../slice-endpoints.ts";
import type { ServicePortInfo } from "../service-ports.ts";
import { externallyAccessible } from "../service-ports.ts";
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

/** Whether an endpoint gets a KUBE-SEP chain, or is DNATed straight from the policy chain. */
export function needsEndpointChain(port: ServicePortInfo, ep: EndpointInfo): boolean {
  if (!ep.elsewhere || port.affinitySeconds > 0) return true;
  return port.externalPolicyLocal && externallyAccessible(port);
}

function dnat(port: ServicePortInfo, ep: EndpointInfo): string {
  const proto = port.protocol.toLowerCase();
  return `-m ${proto} -p ${proto} -j DNAT --to-destination ${ep.address}`;
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
    const pick = i < n - 1 ? `-m statistic --mode random --probability ${probability(n - i)}` : "";
    const target = needsEndpointChain(port, ep) ? `-j ${namer.endpoint(port, ep.address)}` : dnat(port, ep);
    nat.append(chain, note(ep), pick, target);
  });
}

/** Declares and writes the KUBE-SEP chain of each endpoint that needs one; returns their names. */
export function writeEndpointChains(ctx: EndpointRuleContext, port: ServicePortInfo, endpoints: readonly EndpointInfo[]): string[] {
  const { nat, namer } = ctx;
  const note = ctx.omitComments ? [] : comment(port.name);
  const names: string[] = [];
  for (const ep of endpoints) {
    if (!needsEndpointChain(port, ep)) continue;
    const sep = namer.endpoint(port, ep.address);
    names.push(sep);
    nat.declareChain(sep);
    // Hairpin: a pod reaching itself through the Service must be masqueraded, or the reply
    // would skip the DNAT on its way back.
    nat.append(sep, note, `-s ${ep.ip}`, `-j ${KUBE_MARK_MASQ}`);
    const affinity = port.affinitySeconds > 0 ? `-m recent --name ${sep} --set` : "";
    nat.append(sep, note, affinity, dnat(port, ep));
  }
  return names;
}
