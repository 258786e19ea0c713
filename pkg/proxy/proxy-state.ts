// The node-local desired state of one IP family: for each Service, its ports with the endpoints
// this node really uses. It is rebuilt only for the Services the change trackers name, and the
// Services whose node-local state did not move drop out of the changed set (kpng's
// store2localdiff), so an endpoint flapping on another node does not rewrite a Local-policy
// Service's chains here.

import { isDeepStrictEqual } from "node:util";
import { keyOf } from "../model/key.ts";
import type { EndpointSlice, IPFamily, ObjectKey, Protocol, Service } from "../model/types.ts";
import type { NodeTopology, SelectedEndpoints, SelectionOptions } from "./endpoint-selection.ts";
import { defaultSelectionOptions, selectEndpoints } from "./endpoint-selection.ts";
import type { LostNodePorts, NodePortClaim } from "./node-port-conflicts.ts";
import { nodePortClaim } from "./node-port-conflicts.ts";
import type { ServicePortInfo } from "./service-ports.ts";
import { servicePortsForFamily } from "./service-ports.ts";
import type { EndpointInfo } from "./slice-endpoints.ts";
import { endpointsForPort } from "./slice-endpoints.ts";

export interface ServicePortState {
  readonly info: ServicePortInfo;
  /** What this node programs. */
  readonly endpoints: SelectedEndpoints;
  /**
   * Every serving endpoint of the port, ready or terminating, on any node, programmed or not. It
   * writes no rule: UDP flows to these are kept (conntrack-cleanup.ts, as kube-proxy keeps them),
   * so a replica in its graceful shutdown still answers the flows it already has.
   */
  readonly serving: readonly EndpointInfo[];
}

/** The ports of one Service, in spec order; a Service that gets no rules is absent instead. */
export type ServiceState = readonly ServicePortState[];

/** Service key -> state, for one family on one node. */
export type ProxyState = ReadonlyMap<ObjectKey, ServiceState>;

export interface NodeContext {
  readonly family: IPFamily;
  readonly node: NodeTopology;
  readonly selection?: SelectionOptions;
  /** Protocols the kernel can NAT; ports on others are left out (see programmingProblems). Default: all. */
  readonly protocols?: ReadonlySet<Protocol>;
}

/** What the trackers hold for one Service key. */
export interface ServiceInputs {
  readonly service: Service | null;
  readonly slices: readonly EndpointSlice[];
  /** Node ports this Service claims but an older one keeps (node-port-conflicts.ts): left out. */
  readonly lostNodePorts?: ReadonlySet<NodePortClaim>;
}

/** The state of one Service on this node; empty when it gets no rules. */
export function buildServiceState(inputs: ServiceInputs, ctx: NodeContext): ServiceState {
  if (inputs.service === null) return [];
  const options = ctx.selection ?? defaultSelectionOptions;
  const lost = inputs.lostNodePorts;
  const ports = servicePortsForFamily(inputs.service, ctx.family)
    .filter((p) => ctx.protocols?.has(p.protocol) ?? true)
    .map((p) => (lost?.has(nodePortClaim(p.protocol, p.nodePort)) === true ? { ...p, nodePort: 0 } : p));
  return ports.map((info) => {
    const eps = endpointsForPort(inputs.slices, info.portName, info.protocol, ctx.family, ctx.node.name, ctx.node.podCIDRs);
    return { info, endpoints: selectEndpoints(info, eps, ctx.node, options), serving: eps.filter((ep) => ep.serving) };
  });
}

/** The whole state, for a full sync. */
export function buildProxyState(
  services: Iterable<Service>,
  slicesFor: (serviceKey: ObjectKey) => readonly EndpointSlice[],
  ctx: NodeContext,
  lost: LostNodePorts = new Map(),
): Map<ObjectKey, ServiceState> {
  const out = new Map<ObjectKey, ServiceState>();
  for (const service of services) {
    const key = keyOf(service);
    const lostNodePorts = lost.get(key);
    const state = buildServiceState({ service, slices: slicesFor(key), ...(lostNodePorts === undefined ? {} : { lostNodePorts }) }, ctx);
    if (state.length > 0) out.set(key, state);
  }
  return out;
}

export interface StateUpdate {
  readonly state: Map<ObjectKey, ServiceState>;
  /** Keys whose node-local state differs from before: the set to render partially. */
  readonly changed: ReadonlySet<ObjectKey>;
}

/**
 * Rebuilds the Services named in candidates (from the trackers' drains) and reports which of
 * them really changed on this node. The previous map is not modified.
 */
export function updateProxyState(
  previous: ProxyState,
  candidates: Iterable<ObjectKey>,
  lookup: (serviceKey: ObjectKey) => ServiceInputs,
  ctx: NodeContext,
): StateUpdate {
  const state = new Map(previous);
  const changed = new Set<ObjectKey>();
  for (const key of candidates) {
    const before = previous.get(key);
    const after = buildServiceState(lookup(key), ctx);
    if (after.length === 0) state.delete(key);
    else state.set(key, after);
    if (!sameRules(before ?? [], after)) changed.add(key);
  }
  return { state, changed };
}

/**
 * Whether a Service's rules would be written the same: a port's serving list writes no rule, so
 * a remote replica's readiness moving does not rewrite the Service's chains.
 */
function sameRules(a: ServiceState, b: ServiceState): boolean {
  return a.length === b.length && a.every((p, i) => isDeepStrictEqual(p.info, b[i]?.info) && isDeepStrictEqual(p.endpoints, b[i]?.endpoints));
}

/**
 * Health-check data for the Services with a health-check node port: the port and how many
 * ready endpoints (distinct IPs) of the Service are on this node. kube-proxy's health server answers 200 when the
 * count is above zero and 503 otherwise; it is handed exactly this, never the proxier.
 */
export function healthCheckServices(state: ProxyState): Map<ObjectKey, { readonly nodePort: number; readonly localEndpoints: number }> {
  const out = new Map<ObjectKey, { readonly nodePort: number; readonly localEndpoints: number }>();
  for (const [key, ports] of state) {
    const first = ports[0];
    if (first === undefined || first.info.healthCheckNodePort === 0) continue;
    const local = new Set<string>();
    // Ready ones only: a node whose local endpoints are all terminating reports 503, so the
    // load balancer drains it while those endpoints finish their connections.
    for (const p of ports) for (const ep of p.endpoints.local) if (ep.ready) local.add(ep.ip);
    out.set(key, { nodePort: first.info.healthCheckNodePort, localEndpoints: local.size });
  }
  return out;
}

/**
 * Endpoints across all Services and ports. kube-proxy leaves comments off endpoint rules above
 * 1,000 (LARGE_CLUSTER_ENDPOINTS) to keep the rule set small.
 */
export function totalEndpoints(state: ProxyState): number {
  let n = 0;
  for (const ports of state.values()) for (const p of ports) n += p.endpoints.allReachable.length;
  return n;
}

/**
 * Service ports with a Local policy and endpoints elsewhere but none here, as [internal,
 * external]: kube-proxy's sync_proxy_rules_no_local_endpoints_total.
 */
export function noLocalEndpoints(state: ProxyState): [internal: number, external: number] {
  let internal = 0;
  let external = 0;
  for (const ports of state.values()) {
    for (const p of ports) {
      if (!p.endpoints.hasAnyEndpoints || p.endpoints.local.length > 0) continue;
      if (p.info.internalPolicyLocal) internal++;
      if (p.info.externalPolicyLocal && (p.info.nodePort !== 0 || p.info.externalIPs.length > 0 || p.info.loadBalancerIPs.length > 0)) external++;
    }
  }
  return [internal, external];
}
