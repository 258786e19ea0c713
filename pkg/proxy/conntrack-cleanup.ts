// Which UDP conntrack entries a sync leaves stale. UDP has no connection to close, so a client
// such as a DNS resolver keeps hitting the entry of an endpoint that is gone, or the entry made
// while the Service had no endpoint, until it is deleted. Computed from two node-local states,
// as kube-proxy's detectStaleConntrackEntries does from its endpoint maps. After a restart there
// is no previous state to compare with: the kernel's own table is read instead and only the
// flows DNATed to an endpoint no longer used are deleted (kube-proxy's conntrack reconciler), so
// a rollout of the proxy does not cut live UDP flows. The executor sends the deletions to one
// `conntrack` process per batch.

import type { ObjectKey } from "../model/types.ts";
import { canonicalIP, joinHostPort } from "../model/ip.ts";
import type { ProxyState, ServicePortState } from "./proxy-state.ts";

/** One UDP flow as the kernel lists it: its original tuple, and where replies come from. */
export interface ConntrackFlow {
  readonly origSrc: string;
  readonly origDst: string;
  readonly origSport: number;
  readonly origDport: number;
  /** The endpoint the flow was DNATed to, or the original destination when it was not. */
  readonly replySrc: string;
  readonly replySport: number;
}

export type ConntrackDeletion =
  /** conntrack -D -p udp --orig-dst SERVICE_IP --dst-nat ENDPOINT_IP */
  | { readonly kind: "service-ip-to-endpoint"; readonly serviceIP: string; readonly endpointIP: string }
  /** conntrack -D -p udp --orig-port-dst NODE_PORT --dst-nat ENDPOINT_IP */
  | { readonly kind: "node-port-to-endpoint"; readonly nodePort: number; readonly endpointIP: string }
  /** conntrack -D -p udp --orig-dst SERVICE_IP */
  | { readonly kind: "service-ip"; readonly serviceIP: string }
  /** conntrack -D -p udp --orig-port-dst NODE_PORT */
  | { readonly kind: "node-port"; readonly nodePort: number }
  /**
   * conntrack -D -p udp [--orig-dst SERVICE_IP] --orig-port-dst PORT --reply-src ENDPOINT_IP
   * --reply-port-src ENDPOINT_PORT: every flow to one Service port (or node port, without an
   * address) answered from one place. One filter per stale pair, not per flow: conntrack dumps
   * the whole table for each filter, so 10,000 filters took 187 s where one took 0.08 s.
   */
  | { readonly kind: "replies-from"; readonly origDst: string | null; readonly origDport: number; readonly replySrc: string; readonly replySport: number };

function serviceIPs(p: ServicePortState): string[] {
  return [p.info.clusterIP, ...p.info.externalIPs, ...p.info.loadBalancerIPs];
}

function udpPorts(ports: readonly ServicePortState[] | undefined): Map<string, ServicePortState> {
  const out = new Map<string, ServicePortState>();
  for (const p of ports ?? []) if (p.info.protocol === "UDP") out.set(p.info.portName, p);
  return out;
}

/** The endpoints whose UDP flows stay: those in the rules, and every other one still serving. */
function keptAddresses(p: ServicePortState): Set<string> {
  return new Set([...p.endpoints.allReachable, ...p.serving].map((ep) => ep.address));
}

/**
 * The deletions that moving from previous to next calls for, looking at the given Service keys
 * (all keys of both states when omitted). Three cases, all UDP only:
 * - an endpoint whose flows were kept has left the rules and stopped serving (a replica in its
 *   graceful shutdown keeps its flows while it serves, as kube-proxy keeps them): its flows to
 *   the Service's IPs and node port;
 * - a Service port that had no endpoint now has one: every flow to its IPs and node port, since
 *   those were made while it was rejecting;
 * - a Service port that is gone: every flow to its IPs and node port.
 */
export function staleConntrackEntries(previous: ProxyState, next: ProxyState, keys?: Iterable<ObjectKey>): ConntrackDeletion[] {
  const out = new Map<string, ConntrackDeletion>();
  const add = (d: ConntrackDeletion): void => {
    out.set(JSON.stringify(d), d);
  };
  const wholePort = (p: ServicePortState): void => {
    for (const ip of serviceIPs(p)) add({ kind: "service-ip", serviceIP: ip });
    if (p.info.nodePort !== 0) add({ kind: "node-port", nodePort: p.info.nodePort });
  };
  const scope = keys ?? new Set([...previous.keys(), ...next.keys()]);
  for (const key of scope) {
    const before = udpPorts(previous.get(key));
    const after = udpPorts(next.get(key));
    for (const [name, old] of before) {
      const now = after.get(name);
      if (now === undefined) {
        wholePort(old);
        continue;
      }
      const still = keptAddresses(now);
      const kept = new Map([...old.endpoints.allReachable, ...old.serving].map((ep) => [ep.address, ep]));
      for (const ep of kept.values()) {
        if (still.has(ep.address)) continue;
        for (const ip of serviceIPs(old)) add({ kind: "service-ip-to-endpoint", serviceIP: ip, endpointIP: ep.ip });
        if (old.info.nodePort !== 0) add({ kind: "node-port-to-endpoint", nodePort: old.info.nodePort, endpointIP: ep.ip });
      }
    }
    for (const [name, now] of after) {
      const old = before.get(name);
      const hadEndpoints = old !== undefined && old.endpoints.allReachable.length > 0;
      if (!hadEndpoints && now.endpoints.allReachable.length > 0) wholePort(now);
    }
  }
  return [...out.values()];
}

/**
 * The kernel's UDP flows that the current state makes stale, as kube-proxy's reconciler finds
 * them: a flow to a Service IP and port (or to a node port) that has endpoints, whose replies
 * come from somewhere that is neither one of them nor a serving endpoint (an endpoint gone, or
 * no DNAT at all because it was made while the port was rejecting). Ports without endpoints are
 * left alone; flows to anything else are not ours.
 */
export function staleKernelFlows(state: ProxyState, flows: readonly ConntrackFlow[]): ConntrackDeletion[] {
  const byServiceIP = new Map<string, ReadonlySet<string>>();
  const out = new Map<string, ConntrackDeletion>();
  const byNodePort = new Map<number, ReadonlySet<string>>();
  for (const ports of state.values()) {
    for (const p of ports) {
      if (p.info.protocol !== "UDP" || p.endpoints.allReachable.length === 0) continue;
      const endpoints = keptAddresses(p);
      for (const ip of serviceIPs(p)) byServiceIP.set(joinHostPort(canonicalIP(ip) ?? ip, p.info.port), endpoints);
      if (p.info.nodePort !== 0) byNodePort.set(p.info.nodePort, endpoints);
    }
  }
  for (const flow of flows) {
    const replySrc = canonicalIP(flow.replySrc) ?? flow.replySrc;
    const origDst = canonicalIP(flow.origDst) ?? flow.origDst;
    const replyFrom = joinHostPort(replySrc, flow.replySport);
    const toService = byServiceIP.get(joinHostPort(origDst, flow.origDport));
    const endpoints = toService ?? byNodePort.get(flow.origDport);
    if (endpoints === undefined || endpoints.has(replyFrom)) continue;
    const d: ConntrackDeletion = { kind: "replies-from", origDst: toService === undefined ? null : origDst, origDport: flow.origDport, replySrc, replySport: flow.replySport };
    out.set(JSON.stringify(d), d);
  }
  return [...out.values()];
}
