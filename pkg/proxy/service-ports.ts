// A Service seen by one IP family of the proxy, port by port: kube-proxy programs each Service
// port separately, and ip6tables sees only the IPv6 side of a dual-stack Service. Addresses of
// the other family are dropped here, once, instead of being filtered in every rule.

import { keyOf } from "../model/key.ts";
import type { IPFamily, ObjectKey, Protocol, Service } from "../model/types.ts";
import { canonicalCIDR, canonicalIP, ipFamilyOf } from "../model/ip.ts";
import { specialAddressKind, specialAddressProblem } from "./special-addresses.ts";

export interface ServicePortInfo {
  /** namespace/name of the Service. */
  readonly serviceKey: ObjectKey;
  /** "ns/name:port", or "ns/name" for an unnamed port: kube-proxy's ServicePortName string. */
  readonly name: string;
  /** The port's name in the Service, "" when unnamed. */
  readonly portName: string;
  readonly protocol: Protocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when the port has no node port. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** 0 unless the Service is a LoadBalancer with externalTrafficPolicy Local. */
  readonly healthCheckNodePort: number;
  /** ClientIP affinity timeout in seconds; 0 when the Service has no affinity. */
  readonly affinitySeconds: number;
}

export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName === "" ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** Why a Service gets no rules from this proxy; null when it gets some. */
export function skipReason(svc: Service, family: IPFamily): string | null {
  if (svc.serviceProxyName !== "") return `belongs to service proxy ${svc.serviceProxyName}`;
  if (svc.type === "ExternalName") return "is an ExternalName Service";
  if (svc.headless) return "is headless";
  if (clusterIPOf(svc, family) === null) return `has no ${family} cluster IP`;
  return null;
}

function clusterIPOf(svc: Service, family: IPFamily): string | null {
  for (const ip of svc.clusterIPs) {
    if (ipFamilyOf(ip) === family) return canonicalIP(ip);
  }
  return null;
}

/** The addresses of this family, canonical and once each; special ones are skipped (see programmingProblems). */
function ipsOf(ips: readonly string[], family: IPFamily): string[] {
  const out: string[] = [];
  for (const ip of ips) {
    if (ipFamilyOf(ip.trim()) !== family || specialAddressKind(ip) !== null) continue;
    const c = canonicalIP(ip);
    if (c !== null && !out.includes(c)) out.push(c);
  }
  return out;
}

function cidrsOf(cidrs: readonly string[], family: IPFamily): string[] {
  const out: string[] = [];
  for (const text of cidrs) {
    const c = canonicalCIDR(text);
    if (c === null || ipFamilyOf(c.slice(0, c.indexOf("/"))) !== family) continue;
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * The ports of a Service as this family's proxy programs them, in spec order; empty when the
 * Service is not ours (see skipReason). Source ranges of the other family are dropped, as
 * kube-proxy does: a range list with none of this family leaves this family's LB IPs open.
 */
export function servicePortsForFamily(svc: Service, family: IPFamily): readonly ServicePortInfo[] {
  if (skipReason(svc, family) !== null) return [];
  const clusterIP = clusterIPOf(svc, family);
  if (clusterIP === null) return [];
  const serviceKey = keyOf(svc);
  const externalIPs = ipsOf(svc.externalIPs, family);
  const loadBalancerIPs = ipsOf(svc.loadBalancerIPs, family);
  const loadBalancerSourceRanges = cidrsOf(svc.loadBalancerSourceRanges, family);
  const affinitySeconds = svc.sessionAffinity.kind === "ClientIP" ? svc.sessionAffinity.timeoutSeconds : 0;
  return svc.ports.map((p) => ({
    serviceKey,
    name: servicePortName(svc.namespace, svc.name, p.name),
    portName: p.name,
    protocol: p.protocol,
    clusterIP,
    port: p.port,
    nodePort: p.nodePort,
    externalIPs,
    loadBalancerIPs,
    loadBalancerSourceRanges,
    externalPolicyLocal: svc.externalTrafficPolicy === "Local",
    internalPolicyLocal: svc.internalTrafficPolicy === "Local",
    healthCheckNodePort: svc.healthCheckNodePort,
    affinitySeconds,
  }));
}

export interface NodeCapabilities {
  /** The IP families this node's proxy serves (one proxier each). */
  readonly families: readonly IPFamily[];
  /** The protocols the kernel can NAT (SCTP needs its conntrack module). */
  readonly protocols: ReadonlySet<Protocol>;
}

/**
 * Why (part of) a Service cannot be programmed on this node, one reason per problem, for the
 * log line and the metric; empty when everything can be. Services that are not ours at all
 * (headless, ExternalName, another proxy's) are not problems.
 */
export function programmingProblems(svc: Service, caps: NodeCapabilities): string[] {
  if (svc.serviceProxyName !== "" || svc.type === "ExternalName" || svc.headless) return [];
  const problems: string[] = [];
  if (!caps.families.some((f) => clusterIPOf(svc, f) !== null)) {
    problems.push(`its cluster IPs (${svc.clusterIPs.join(", ")}) are of no family this node serves (${caps.families.join(", ")})`);
  }
  for (const p of svc.ports) {
    if (!caps.protocols.has(p.protocol)) {
      problems.push(`port ${p.name === "" ? String(p.port) : p.name} uses ${p.protocol}, which this node cannot NAT`);
    }
  }
  const specials = (field: (i: number) => string, ips: readonly string[]): void =>
    ips.forEach((ip, i) => {
      const kind = specialAddressKind(ip);
      if (kind !== null) problems.push(specialAddressProblem(field(i), ip, kind));
    });
  specials((i) => `spec.externalIPs[${i}]`, svc.externalIPs);
  // Only the ingress points with an IP that is not proxied are kept, so no index is known here.
  specials(() => "status.loadBalancer.ingress", svc.loadBalancerIPs);
  return problems;
}

/** Reachable from outside the cluster: a node port, an external IP or a load-balancer IP. */
export function externallyAccessible(p: ServicePortInfo): boolean {
  return p.nodePort !== 0 || p.externalIPs.length > 0 || p.loadBalancerIPs.length > 0;
}

/**
 * Whether the port needs the Cluster-policy endpoint list: for internal traffic under Cluster
 * policy, and for any external traffic, since even under external Local policy traffic from
 * pods and from the node itself short-circuits to all endpoints.
 */
export function usesClusterEndpoints(p: ServicePortInfo): boolean {
  return !p.internalPolicyLocal || externallyAccessible(p);
}

/** Whether the port needs the node-local endpoint list. */
export function usesLocalEndpoints(p: ServicePortInfo): boolean {
  return p.internalPolicyLocal || (p.externalPolicyLocal && externallyAccessible(p));
}
