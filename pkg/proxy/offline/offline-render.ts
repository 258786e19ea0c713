// The offline subcommands' core: the rules the daemon would program on one node for a set of
// objects, and one connection traced through them. Pure: objects and settings in, text or a
// trace out. The kernel's capabilities are assumed to be those of any current node (SCTP and
// MASQUERADE --random-fully available), which is what the daemon probes on one.
import { slicesByService } from "../../model/key.ts";
import type { IPFamily, Node, Protocol } from "../../model/types.ts";
import { SignpostError } from "../../errors/errors.ts";
import { canonicalIP, cidrContains } from "../../model/ip.ts";
import type { TraceResult } from "../iptables/packet-tracer.ts";
import { traceRestore } from "../iptables/packet-tracer.ts";
import { LARGE_CLUSTER_ENDPOINTS } from "../iptables/render-config.ts";
import type { RenderResult } from "../iptables/render.ts";
import { renderIptables } from "../iptables/render.ts";
import { buildProxyState, totalEndpoints } from "../proxy-state.ts";
import type { ProxySettings } from "../proxy-settings.ts";
import { nodeIPsOf, renderConfigFor } from "../proxy-settings.ts";
import type { ClusterObjects, ObjectKind } from "../../kube/objects-file.ts";

export interface OfflineRequest {
  readonly objects: ClusterObjects;
  readonly nodeName: string;
  readonly settings: ProxySettings;
  readonly family: IPFamily;
}

/** The kinds the offline subcommands read from an --objects file. */
export const proxyObjectKinds: readonly ObjectKind[] = ["Node", "Service", "EndpointSlice"];

function findNode(objects: ClusterObjects, name: string): Node {
  const node = objects.nodes.find((n) => n.name === name);
  if (node === undefined) {
    const known = objects.nodes.map((n) => n.name).join(", ") || "none";
    throw new SignpostError("SP_BAD_FLAG", "--node", `no Node named "${name}" in the objects (Nodes found: ${known})`);
  }
  return node;
}

/** One complete iptables-restore input, jumps from the built-in chains included. */
export function renderForNode(req: OfflineRequest): RenderResult {
  const node = findNode(req.objects, req.nodeName);
  const byService = slicesByService(req.objects.slices);
  const state = buildProxyState(req.objects.services, (k) => byService.get(k) ?? [], {
    family: req.family,
    node: { name: node.name, zone: node.zone, podCIDRs: node.podCIDRs },
    protocols: new Set<Protocol>(["TCP", "UDP", "SCTP"]),
  });
  const config = renderConfigFor({
    settings: req.settings,
    family: req.family,
    node,
    randomFully: true,
    omitEndpointComments: totalEndpoints(state) > LARGE_CLUSTER_ENDPOINTS,
  });
  return renderIptables({ state, config, changed: null, includeBuiltinJumps: true });
}

export interface TraceRequest extends OfflineRequest {
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface TraceReport {
  readonly verdict: TraceResult["verdict"];
  readonly endpoints: readonly string[];
  readonly masqueraded: boolean;
  readonly chains: readonly string[];
  readonly paths: readonly { verdict: string; destination: string | null; probability: number; masqueraded: boolean; decidedBy: string | null }[];
}

export function traceForNode(req: TraceRequest): TraceReport {
  const node = findNode(req.objects, req.nodeName);
  const text = renderForNode(req).text;
  const local = new Set(nodeIPsOf(node, req.family).map((ip) => canonicalIP(ip) ?? ip));
  const isLocalAddress = (ip: string): boolean => {
    const c = canonicalIP(ip) ?? ip;
    return local.has(c) || cidrContains("127.0.0.0/8", c) || c === "::1";
  };
  const result = traceRestore(text, { src: req.src, dst: req.dst, dport: req.port, protocol: req.protocol, isLocalAddress });
  return {
    verdict: result.verdict,
    endpoints: result.endpoints,
    masqueraded: result.masqueraded,
    chains: result.chains,
    paths: result.paths.map((p) => ({
      verdict: p.verdict,
      destination: p.destination,
      probability: Number(p.probability.toFixed(6)),
      masqueraded: p.masqueraded,
      decidedBy: p.decidedBy,
    })),
  };
}
