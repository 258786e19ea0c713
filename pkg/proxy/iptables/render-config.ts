// What the renderer needs to know about the node and the operator's settings, besides the
// Services. Everything here is plain data resolved by the caller (node addresses from the Node
// object or the interfaces, flags from KubeProxyConfiguration), so rendering stays pure.

import type { IPFamily } from "../../model/types.ts";
import { canonicalCIDR } from "../../model/ip.ts";

/**
 * How to tell traffic from this cluster's pods: kube-proxy's "local detector". Its rule
 * fragments are spliced into rules; null when the operator gave no cluster CIDR, in which case
 * the rules that depend on it are left out, as in kube-proxy.
 */
export interface LocalDetector {
  readonly ifLocal: readonly string[];
  readonly ifNotLocal: readonly string[];
}

/** detect-local-mode ClusterCIDR (or NodeCIDR, given the node's pod CIDR). */
export function detectLocalByCIDR(cidr: string): LocalDetector | null {
  const c = canonicalCIDR(cidr);
  if (c === null) return null;
  return { ifLocal: ["-s", c], ifNotLocal: ["!", "-s", c] };
}

/** detect-local-mode BridgeInterface: pod traffic arrives on the pods' bridge. */
export function detectLocalByBridge(bridge: string): LocalDetector {
  return { ifLocal: ["-i", bridge], ifNotLocal: ["!", "-i", bridge] };
}

/** detect-local-mode InterfaceNamePrefix: pod traffic arrives on an interface so named (veth...). */
export function detectLocalByInterfacePrefix(prefix: string): LocalDetector {
  return { ifLocal: ["-i", `${prefix}+`], ifNotLocal: ["!", "-i", `${prefix}+`] };
}

export interface RenderConfig {
  readonly family: IPFamily;
  /** Pod traffic detector for this family, usually detectLocalByCIDR(--cluster-cidr). */
  readonly localDetector: LocalDetector | null;
  /** --masquerade-all: SNAT all traffic to cluster IPs. */
  readonly masqueradeAll: boolean;
  /** --nodeport-addresses for this family, as CIDRs; empty means every local address. */
  readonly nodePortAddresses: readonly string[];
  /** This node's addresses of this family, from its Node object (source-range checks, "primary"). */
  readonly nodeIPs: readonly string[];
  /**
   * The addresses of this family on the node's interfaces, which nodePortAddresses is matched
   * against, as kube-proxy does; null when they are not known (the offline render), and the
   * Node's addresses stand in for them.
   */
  readonly interfaceIPs: readonly string[] | null;
  /** Accept node ports on 127.0.0.0/8 (IPv4 only; needs route_localnet). kube-proxy's default is true. */
  readonly localhostNodePorts: boolean;
  /** Add --random-fully to MASQUERADE (when the iptables binary supports it). */
  readonly masqueradeRandomFully: boolean;
  /**
   * Leave the comments off endpoint rules, as kube-proxy does above 1,000 endpoints to keep the
   * rule set small. Changing it changes every endpoint chain, so it calls for a full sync.
   */
  readonly omitEndpointComments: boolean;
  /**
   * Drop forwarded packets conntrack marks INVALID (kube-proxy's rule against spurious resets).
   * Off when the node sets nf_conntrack_tcp_be_liberal, as kube-proxy leaves it out then: only
   * out-of-window resets are INVALID there, and dropping them would hang connections.
   */
  readonly dropInvalid: boolean;
}

/** kube-proxy's largeClusterEndpointsThreshold. */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

export function defaultRenderConfig(family: IPFamily): RenderConfig {
  return {
    family,
    localDetector: null,
    masqueradeAll: false,
    nodePortAddresses: [],
    nodeIPs: [],
    interfaceIPs: null,
    localhostNodePorts: true,
    masqueradeRandomFully: false,
    omitEndpointComments: false,
    dropInvalid: true,
  };
}
