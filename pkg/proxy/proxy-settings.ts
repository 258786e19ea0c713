// The operator's settings that shape the rules (flags or KubeProxyConfiguration), and how they
// and the Node object become the renderer's RenderConfig for one IP family. The daemon and the
// offline `render` command share this, so both produce the same rules for the same inputs.
import type { IPFamily, Node } from "../model/types.ts";
import { ipFamilyOf, parseCIDR } from "../model/ip.ts";
import type { RenderConfig } from "./iptables/render-config.ts";
import type { LocalDetector } from "./iptables/render-config.ts";
import { defaultRenderConfig, detectLocalByBridge, detectLocalByCIDR, detectLocalByInterfacePrefix } from "./iptables/render-config.ts";

export interface ProxySettings {
  /** --cluster-cidr, split on commas; at most one per family is used. */
  readonly clusterCIDRs: readonly string[];
  readonly masqueradeAll: boolean;
  /**
   * --nodeport-addresses CIDRs; empty means every local address. ["primary"] means the node's
   * primary address of each family (kube-proxy's keyword), resolved from the Node object.
   */
  readonly nodePortAddresses: readonly string[];
  readonly localhostNodePorts: boolean;
  /** How pod traffic is told from the rest (kube-proxy's detectLocalMode and detectLocal). */
  readonly detectLocal: DetectLocal;
}

export const detectLocalModes = ["ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"] as const;
export type DetectLocalMode = (typeof detectLocalModes)[number];

export interface DetectLocal {
  readonly mode: DetectLocalMode;
  /** BridgeInterface: the bridge the node's pods hang off. */
  readonly bridgeInterface: string;
  /** InterfaceNamePrefix: the start of the name of every pod's interface on the node. */
  readonly interfaceNamePrefix: string;
}

export const defaultProxySettings: ProxySettings = {
  clusterCIDRs: [],
  masqueradeAll: false,
  nodePortAddresses: [],
  localhostNodePorts: true,
  detectLocal: { mode: "ClusterCIDR", bridgeInterface: "", interfaceNamePrefix: "" },
};

/** The node's addresses of one family (InternalIP first, then ExternalIP), as node IPs. */
export function nodeIPsOf(node: Node | null, family: IPFamily): string[] {
  if (node === null) return [];
  const out: string[] = [];
  for (const type of ["InternalIP", "ExternalIP"] as const) {
    for (const a of node.addresses) {
      if (a.type === type && ipFamilyOf(a.address) === family && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}

/** The families a node can be served in: those of its addresses, IPv4 when it has none. */
export function nodeFamilies(node: Node | null): IPFamily[] {
  const families = (["IPv4", "IPv6"] as const).filter((f) => nodeIPsOf(node, f).length > 0);
  return families.length === 0 ? ["IPv4"] : families;
}

export function clusterCIDRFor(settings: ProxySettings, family: IPFamily): string | null {
  for (const text of settings.clusterCIDRs) {
    const c = parseCIDR(text);
    if (c !== null && c.family === family) return text.trim();
  }
  return null;
}

/** kube-proxy's keyword for "the node's primary IPs" in --nodeport-addresses. */
export const PRIMARY_NODE_IPS = "primary";

/**
 * The --nodeport-addresses CIDRs of a node, "primary" resolved to its first address of each
 * family (a loopback address is left out, as kube-proxy leaves it out); none of a family means
 * every address of that family.
 */
export function nodePortCIDRsOf(settings: ProxySettings, node: Node | null): string[] {
  if (settings.nodePortAddresses.length !== 1 || settings.nodePortAddresses[0] !== PRIMARY_NODE_IPS) return [...settings.nodePortAddresses];
  const out: string[] = [];
  for (const family of ["IPv4", "IPv6"] as const) {
    const ip = nodeIPsOf(node, family)[0];
    if (ip === undefined || ip.startsWith("127.") || ip === "::1") continue;
    out.push(family === "IPv4" ? `${ip}/32` : `${ip}/128`);
  }
  return out;
}

export interface RenderConfigInputs {
  readonly settings: ProxySettings;
  readonly family: IPFamily;
  readonly node: Node | null;
  readonly randomFully: boolean;
  readonly omitEndpointComments: boolean;
  /** The interface addresses of this family (daemon); absent or null: the Node's (offline). */
  readonly interfaceIPs?: readonly string[] | null;
  /** The node's nf_conntrack_tcp_be_liberal is on (read at start); absent: off. */
  readonly tcpBeLiberal?: boolean;
}

/**
 * The local detector of one family, as kube-proxy picks it: by the cluster CIDR, by the node's
 * pod CIDR (none until the Node has one), by the pods' bridge, or by their interfaces' names.
 * null means the rules that need it are left out.
 */
export function localDetectorFor(settings: ProxySettings, family: IPFamily, node: Node | null): LocalDetector | null {
  const { mode, bridgeInterface, interfaceNamePrefix } = settings.detectLocal;
  switch (mode) {
    case "ClusterCIDR": {
      const cidr = clusterCIDRFor(settings, family);
      return cidr === null ? null : detectLocalByCIDR(cidr);
    }
    case "NodeCIDR": {
      const cidr = (node?.podCIDRs ?? []).find((c) => parseCIDR(c)?.family === family);
      return cidr === undefined ? null : detectLocalByCIDR(cidr);
    }
    case "BridgeInterface":
      return detectLocalByBridge(bridgeInterface);
    case "InterfaceNamePrefix":
      return detectLocalByInterfacePrefix(interfaceNamePrefix);
  }
}

export function renderConfigFor(inputs: RenderConfigInputs): RenderConfig {
  return {
    ...defaultRenderConfig(inputs.family),
    localDetector: localDetectorFor(inputs.settings, inputs.family, inputs.node),
    masqueradeAll: inputs.settings.masqueradeAll,
    nodePortAddresses: nodePortCIDRsOf(inputs.settings, inputs.node),
    nodeIPs: nodeIPsOf(inputs.node, inputs.family),
    interfaceIPs: inputs.interfaceIPs ?? null,
    localhostNodePorts: inputs.settings.localhostNodePorts,
    masqueradeRandomFully: inputs.randomFully,
    omitEndpointComments: inputs.omitEndpointComments,
    dropInvalid: inputs.tcpBeLiberal !== true,
  };
}
