// The operator's settings that shape the rules (flags or KubeProxyConfiguration), and how they
// and the Node object become the renderer's RenderConfig for one IP family. The daemon and the
// offline `render` command share this, so both produce the same rules for the same inputs.
import type { IPFamily, Node } from "../model/types.ts";
import { ipFamilyOf, parseCIDR } from "./ip.ts";
import type { RenderConfig } from "./iptables/render-config.ts";
import { defaultRenderConfig, detectLocalByCIDR } from "./iptables/render-config.ts";

export interface ProxySettings {
  /** --cluster-cidr, split on commas; at most one per family is used. */
  readonly clusterCIDRs: readonly string[];
  readonly masqueradeAll: boolean;
  /** --nodeport-addresses CIDRs; empty means every local address. */
  readonly nodePortAddresses: readonly string[];
  readonly localhostNodePorts: boolean;
}

export const defaultProxySettings: ProxySettings = {
  clusterCIDRs: [],
  masqueradeAll: false,
  nodePortAddresses: [],
  localhostNodePorts: true,
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

export interface RenderConfigInputs {
  readonly settings: ProxySettings;
  readonly family: IPFamily;
  readonly node: Node | null;
  readonly randomFully: boolean;
  readonly omitEndpointComments: boolean;
}

export function renderConfigFor(inputs: RenderConfigInputs): RenderConfig {
  const cidr = clusterCIDRFor(inputs.settings, inputs.family);
  return {
    ...defaultRenderConfig(inputs.family),
    localDetector: cidr === null ? null : detectLocalByCIDR(cidr),
    masqueradeAll: inputs.settings.masqueradeAll,
    nodePortAddresses: inputs.settings.nodePortAddresses,
    nodeIPs: nodeIPsOf(inputs.node, inputs.family),
    localhostNodePorts: inputs.settings.localhostNodePorts,
    masqueradeRandomFully: inputs.randomFully,
    omitEndpointComments: inputs.omitEndpointComments,
  };
}
