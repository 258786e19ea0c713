// The endpoints of one Service port, gathered from the Service's EndpointSlices the way
// kube-proxy's endpointslicecache does: slices of this IP family only, the port matched by name
// and protocol, the first address of each endpoint (unless it is a special one, loopback say),
// duplicates across slices merged (a copy that is not terminating wins, whatever the slice
// order), and the result sorted by "ip:port" so that rule text is stable.

import type { EndpointSlice, IPFamily, Protocol } from "../model/types.ts";
import { canonicalIP, cidrContainsParsed, ipFamilyOf, joinHostPort, parseCIDR, parseIPSloppy, type ParsedCIDR } from "../model/ip.ts";
import { specialAddressKind } from "./special-addresses.ts";

export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** "ip:port" or "[ip]:port": the DNAT destination and part of the KUBE-SEP hash. */
  readonly address: string;
  /** On the node this proxy runs on. */
  readonly isLocal: boolean;
  /**
   * Known to run on another node: named on one, and outside this node's pod CIDRs when those
   * are known. Such a pod's packets never pass this node's rules on their way to itself, so it
   * needs no hairpin rule. An endpoint whose nodeName is empty or names no real node, but whose
   * IP is one of ours, is not "elsewhere".
   */
  readonly elsewhere: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName: string;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
}

export function endpointsForPort(
  slices: readonly EndpointSlice[],
  portName: string,
  protocol: Protocol,
  family: IPFamily,
  nodeName: string,
  podCIDRs: readonly string[] = [],
): readonly EndpointInfo[] {
  const byAddress = new Map<string, EndpointInfo>();
  // Parsed once: every endpoint named on another node is checked against them.
  const ownCIDRs = podCIDRs.map(parseCIDR).filter((c): c is ParsedCIDR => c !== null);
  const inOwnCIDRs = (ip: string): boolean => {
    const parsed = ownCIDRs.length === 0 ? null : parseIPSloppy(ip);
    return parsed !== null && ownCIDRs.some((c) => cidrContainsParsed(c, parsed));
  };
  for (const slice of slices) {
    if (slice.addressType !== family) continue;
    for (const sp of slice.ports) {
      if (sp.name !== portName || sp.protocol !== protocol || sp.port === 0) continue;
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        // A special address (loopback, link-local...) is never a backend: see slice-problems.ts.
        if (first === undefined || ipFamilyOf(first) !== family || specialAddressKind(first) !== null) continue;
        const ip = canonicalIP(first);
        if (ip === null) continue;
        const isLocal = ep.nodeName !== "" && ep.nodeName === nodeName;
        const elsewhere = ep.nodeName !== "" && !isLocal && !inOwnCIDRs(ip);
        const info: EndpointInfo = {
          ip,
          port: sp.port,
          address: joinHostPort(ip, sp.port),
          isLocal,
          elsewhere,
          ready: ep.ready,
          serving: ep.serving,
          terminating: ep.terminating,
          nodeName: ep.nodeName,
          zoneHints: ep.hints?.forZones ?? [],
          nodeHints: ep.hints?.forNodes ?? [],
        };
        // The same address in two slices: an endpoint moving between slices during a rebalance,
        // or a pod IP reused while the old pod terminates. The running copy wins, as in
        // kube-proxy, so a Service never loses a serving endpoint to slice order.
        if (!byAddress.has(info.address) || !ep.terminating) byAddress.set(info.address, info);
      }
    }
  }
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
