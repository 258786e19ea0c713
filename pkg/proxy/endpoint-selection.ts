// Which endpoints of a Service port this node really uses, resolved before any rule is rendered
// (kpng's store2localdiff; kube-proxy's topology.go CategorizeEndpoints). Ready endpoints first,
// serving-and-terminating ones when none is ready; topology hints when every ready endpoint has
// them and one is meant for this node; the Local traffic policies use this node's endpoints only.
// Cluster and Local lists come out separately, as the iptables renderer needs both.

import type { EndpointInfo } from "./slice-endpoints.ts";
import type { ServicePortInfo } from "./service-ports.ts";
import { usesClusterEndpoints, usesLocalEndpoints } from "./service-ports.ts";

export type TopologyMode = "" | "PreferSameZone" | "PreferSameNode";

export interface NodeTopology {
  readonly name: string;
  /** topology.kubernetes.io/zone of the node, "" when unlabelled. */
  readonly zone: string;
  /** spec.podCIDRs: an endpoint inside them runs here whatever its nodeName says. */
  readonly podCIDRs?: readonly string[];
}

export interface SelectionOptions {
  /** Honour per-node hints (kube-proxy's PreferSameTrafficDistribution gate, on by default). */
  readonly preferSameNode: boolean;
}

export const defaultSelectionOptions: SelectionOptions = { preferSameNode: true };

export interface SelectedEndpoints {
  /** Endpoints for Cluster traffic policy; empty when the port never uses Cluster policy. */
  readonly cluster: readonly EndpointInfo[];
  /** This node's endpoints for Local traffic policy; empty when the port never uses Local policy. */
  readonly local: readonly EndpointInfo[];
  /** Union of the two: every endpoint this node may DNAT to (one KUBE-SEP chain each). */
  readonly allReachable: readonly EndpointInfo[];
  /** The Service has a usable endpoint somewhere in the cluster (even if none is reachable here). */
  readonly hasAnyEndpoints: boolean;
  /** The topology filter applied to the Cluster list. */
  readonly topologyMode: TopologyMode;
}

const none: SelectedEndpoints = { cluster: [], local: [], allReachable: [], hasAnyEndpoints: false, topologyMode: "" };

function servingTerminating(ep: EndpointInfo): boolean {
  return ep.serving && ep.terminating;
}

/**
 * The topology mode the hints allow: per node when every ready endpoint has a node hint and one
 * names this node; per zone when every ready endpoint has a zone hint and one names this zone;
 * otherwise none. The EndpointSlice controller only writes hints for Services that ask for them
 * (trafficDistribution, or the topology-mode annotation), so the hints alone decide here.
 */
export function topologyModeFromHints(
  endpoints: readonly EndpointInfo[],
  node: NodeTopology,
  options: SelectionOptions = defaultSelectionOptions,
): TopologyMode {
  let hasReady = false;
  let allNodeHints = true;
  let forThisNode = false;
  let allZoneHints = true;
  let forThisZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    hasReady = true;
    if (ep.nodeHints.length === 0) allNodeHints = false;
    else if (ep.nodeHints.includes(node.name)) forThisNode = true;
    if (ep.zoneHints.length === 0) allZoneHints = false;
    else if (node.zone !== "" && ep.zoneHints.includes(node.zone)) forThisZone = true;
  }
  if (!hasReady) return "";
  if (options.preferSameNode && allNodeHints && forThisNode) return "PreferSameNode";
  if (allZoneHints && forThisZone) return "PreferSameZone";
  return "";
}

function availableForTopology(ep: EndpointInfo, mode: TopologyMode, node: NodeTopology): boolean {
  switch (mode) {
    case "":
      return true;
    case "PreferSameNode":
      return ep.nodeHints.includes(node.name);
    case "PreferSameZone":
      return ep.zoneHints.includes(node.zone);
  }
}

function byAddress(a: EndpointInfo, b: EndpointInfo): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

/** Splits a port's endpoints into the Cluster and Local lists this node programs. */
export function selectEndpoints(
  port: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
  node: NodeTopology,
  options: SelectionOptions = defaultSelectionOptions,
): SelectedEndpoints {
  if (endpoints.length === 0) return none;

  let cluster: readonly EndpointInfo[] = [];
  let topologyMode: TopologyMode = "";
  let hasAnyEndpoints = false;
  if (usesClusterEndpoints(port)) {
    topologyMode = topologyModeFromHints(endpoints, node, options);
    cluster = endpoints.filter((ep) => ep.ready && availableForTopology(ep, topologyMode, node));
    // No ready endpoint anywhere (topology already fell back when none was ready for us):
    // keep serving through the ones that are shutting down but still answer.
    if (cluster.length === 0) cluster = endpoints.filter(servingTerminating);
    hasAnyEndpoints = cluster.length > 0;
  }

  if (!usesLocalEndpoints(port)) {
    return { cluster, local: [], allReachable: cluster, hasAnyEndpoints, topologyMode };
  }

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (servingTerminating(ep)) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  const localUsesTerminating = !localReady && localServingTerminating;
  let local: readonly EndpointInfo[] = [];
  if (localReady) local = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localUsesTerminating) local = endpoints.filter((ep) => ep.isLocal && servingTerminating(ep));

  if (!usesClusterEndpoints(port)) {
    return { cluster, local, allReachable: local, hasAnyEndpoints, topologyMode };
  }
  if (topologyMode === "" && !localUsesTerminating) {
    // Cluster holds every ready endpoint and Local only ready ones, so Cluster covers Local.
    return { cluster, local, allReachable: cluster, hasAnyEndpoints, topologyMode };
  }
  const merged = new Map<string, EndpointInfo>();
  for (const ep of cluster) merged.set(ep.address, ep);
  for (const ep of local) merged.set(ep.address, ep);
  const allReachable = [...merged.values()].sort(byAddress);
  return { cluster, local, allReachable, hasAnyEndpoints, topologyMode };
}
