// Converts a v1 Service into model.Service: applies the API server's defaults, refuses values it
// would have refused, and copies only what the daemons read, so nothing of the API object is
// retained after the watch event.
import type { V1Service, V1ServicePort, V1ServiceSpec, V1ServiceStatus } from "@kubernetes/client-node";
import { emptyList, frozenList } from "./frozen.ts";
import { type Interner, sharedInterner } from "./intern.ts";
import { ipFamilyOf, isCIDR } from "./ip.ts";
import { isPortNumber, protocolOf, shown } from "./port.ts";
import { invalidObject, namespacedIdentity } from "./subject.ts";
import type {
  IPFamily,
  Service,
  ServicePort,
  ServiceType,
  SessionAffinity,
  TrafficPolicy,
} from "./types.ts";

/** kube-proxy's and the API server's default for sessionAffinity ClientIP: three hours. */
export const defaultClientIPTimeoutSeconds = 10_800;
/** The API server refuses longer timeouts: one day. */
export const maxClientIPTimeoutSeconds = 86_400;

export const serviceProxyNameLabel = "service.kubernetes.io/service-proxy-name";

const serviceTypes: ReadonlyMap<string, ServiceType> = new Map([
  ["ClusterIP", "ClusterIP"],
  ["NodePort", "NodePort"],
  ["LoadBalancer", "LoadBalancer"],
  ["ExternalName", "ExternalName"],
]);

const trafficPolicies: ReadonlyMap<string, TrafficPolicy> = new Map([
  ["Cluster", "Cluster"],
  ["Local", "Local"],
]);

const ipFamilies: ReadonlyMap<string, IPFamily> = new Map([
  ["IPv4", "IPv4"],
  ["IPv6", "IPv6"],
]);

const noAffinity: SessionAffinity = Object.freeze({ kind: "None" });

export function convertService(service: V1Service, interner: Interner = sharedInterner): Service {
  const { namespace, name, subject } = namespacedIdentity("Service", service.metadata);
  const spec = service.spec;
  if (spec === undefined || spec === null) throw invalidObject(subject, "spec", "is missing");

  const type = readType(spec, subject);
  const external = type === "ExternalName";
  const { clusterIPs, headless } = external ? { clusterIPs: emptyList, headless: false } : readClusterIPs(spec, subject);
  const externalTrafficPolicy = readTrafficPolicy(spec.externalTrafficPolicy, subject, "spec.externalTrafficPolicy");

  return Object.freeze({
    namespace: interner.intern(namespace),
    name,
    type,
    clusterIPs,
    headless,
    ipFamilies: external ? emptyList : readIPFamilies(spec, clusterIPs, subject),
    externalName: external ? readExternalName(spec, subject) : "",
    ports: frozenList((spec.ports ?? []).map((port, i) => convertPort(port, i, subject, interner))),
    externalIPs: readIPList(spec.externalIPs, subject, "spec.externalIPs"),
    loadBalancerIPs: readLoadBalancerIPs(service.status, subject),
    loadBalancerSourceRanges: readSourceRanges(spec.loadBalancerSourceRanges, subject),
    externalTrafficPolicy,
    internalTrafficPolicy: readTrafficPolicy(spec.internalTrafficPolicy, subject, "spec.internalTrafficPolicy"),
    healthCheckNodePort:
      type === "LoadBalancer" && externalTrafficPolicy === "Local" ? readHealthCheckNodePort(spec, subject) : 0,
    sessionAffinity: readSessionAffinity(spec, subject),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    trafficDistribution: interner.intern(spec.trafficDistribution ?? ""),
    serviceProxyName: interner.intern(service.metadata?.labels?.[serviceProxyNameLabel] ?? ""),
    createdAtMs: timestampMs(service.metadata?.creationTimestamp),
  });
}

/** A watch event's raw JSON holds the timestamp as RFC 3339 text; client-node's typed objects hold a Date. */
function timestampMs(value: Date | string | undefined): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : 0;
}

function readType(spec: V1ServiceSpec, subject: string): ServiceType {
  const type = serviceTypes.get(spec.type ?? "ClusterIP");
  if (type === undefined) {
    throw invalidObject(subject, "spec.type", `${shown(spec.type)} is not one of ClusterIP, NodePort, LoadBalancer, ExternalName`);
  }
  return type;
}

/** spec.clusterIPs, falling back to [spec.clusterIP] as written by API servers before dual-stack. */
function readClusterIPs(spec: V1ServiceSpec, subject: string): { clusterIPs: readonly string[]; headless: boolean } {
  const fromList = spec.clusterIPs !== undefined && spec.clusterIPs !== null && spec.clusterIPs.length > 0;
  const raw = fromList ? (spec.clusterIPs ?? []) : spec.clusterIP ? [spec.clusterIP] : [];
  const path = (i: number): string => (fromList ? `spec.clusterIPs[${i}]` : "spec.clusterIP");
  if (raw[0] === "None") {
    if (raw.length > 1) throw invalidObject(subject, path(1), `${shown(raw[1])} follows "None", which must stand alone`);
    return { clusterIPs: emptyList, headless: true };
  }
  const clusterIPs = raw.map((ip, i) => {
    if (ipFamilyOf(ip) === null) throw invalidObject(subject, path(i), `${shown(ip)} is neither an IP address nor "None"`);
    return ip;
  });
  return { clusterIPs: frozenList(clusterIPs), headless: false };
}

/** spec.ipFamilies; when unset (objects from old API servers), the families of the cluster IPs. */
function readIPFamilies(spec: V1ServiceSpec, clusterIPs: readonly string[], subject: string): readonly IPFamily[] {
  const given = spec.ipFamilies ?? [];
  if (given.length === 0) {
    return frozenList(clusterIPs.map((ip) => ipFamilyOf(ip) ?? "IPv4"));
  }
  return frozenList(
    given.map((value, i) => {
      const family = ipFamilies.get(value);
      if (family === undefined) throw invalidObject(subject, `spec.ipFamilies[${i}]`, `${shown(value)} is not IPv4 or IPv6`);
      return family;
    }),
  );
}

function readExternalName(spec: V1ServiceSpec, subject: string): string {
  const name = spec.externalName ?? "";
  if (typeof name !== "string" || name === "") {
    throw invalidObject(subject, "spec.externalName", "is empty, but the Service is of type ExternalName");
  }
  return name.toLowerCase();
}

function convertPort(port: V1ServicePort, i: number, subject: string, interner: Interner): ServicePort {
  if (!isPortNumber(port.port)) {
    throw invalidObject(subject, `spec.ports[${i}].port`, `${shown(port.port)} is outside 1..65535`);
  }
  const protocol = protocolOf(port.protocol);
  if (protocol === null) {
    throw invalidObject(subject, `spec.ports[${i}].protocol`, `${shown(port.protocol)} is not one of TCP, UDP, SCTP`);
  }
  const nodePort = port.nodePort ?? 0;
  if (nodePort !== 0 && !isPortNumber(nodePort)) {
    throw invalidObject(subject, `spec.ports[${i}].nodePort`, `${shown(nodePort)} is outside 1..65535`);
  }
  return Object.freeze({ name: interner.intern(port.name ?? ""), protocol, port: port.port, nodePort });
}

function readIPList(values: string[] | undefined, subject: string, path: string): readonly string[] {
  if (values === undefined || values === null || values.length === 0) return emptyList;
  return frozenList(
    values.map((ip, i) => {
      if (ipFamilyOf(ip) === null) throw invalidObject(subject, `${path}[${i}]`, `${shown(ip)} is not an IP address`);
      return ip;
    }),
  );
}

/** Ingress points with ipMode "Proxy" are reached through the load balancer, not short-circuited. */
function readLoadBalancerIPs(status: V1ServiceStatus | undefined, subject: string): readonly string[] {
  const ingress = status?.loadBalancer?.ingress ?? [];
  const ips: string[] = [];
  ingress.forEach((point, i) => {
    const ip = point.ip ?? "";
    if (ip === "" || point.ipMode === "Proxy") return;
    if (ipFamilyOf(ip) === null) {
      throw invalidObject(subject, `status.loadBalancer.ingress[${i}].ip`, `${shown(ip)} is not an IP address`);
    }
    ips.push(ip);
  });
  return frozenList(ips);
}

/** The API server trims surrounding spaces before validating these, so do the same. */
function readSourceRanges(values: string[] | undefined, subject: string): readonly string[] {
  if (values === undefined || values === null || values.length === 0) return emptyList;
  return frozenList(
    values.map((value, i) => {
      const cidr = typeof value === "string" ? value.trim() : value;
      if (!isCIDR(cidr)) {
        throw invalidObject(subject, `spec.loadBalancerSourceRanges[${i}]`, `${shown(value)} is not a CIDR`);
      }
      return cidr;
    }),
  );
}

function readTrafficPolicy(value: string | undefined, subject: string, path: string): TrafficPolicy {
  if (value === undefined || value === null || value === "") return "Cluster";
  const policy = trafficPolicies.get(value);
  if (policy === undefined) throw invalidObject(subject, path, `${shown(value)} is not Cluster or Local`);
  return policy;
}

function readHealthCheckNodePort(spec: V1ServiceSpec, subject: string): number {
  const port = spec.healthCheckNodePort ?? 0;
  if (port !== 0 && !isPortNumber(port)) {
    throw invalidObject(subject, "spec.healthCheckNodePort", `${shown(port)} is outside 1..65535`);
  }
  return port;
}

function readSessionAffinity(spec: V1ServiceSpec, subject: string): SessionAffinity {
  const kind = spec.sessionAffinity ?? "None";
  if (kind === "None" || kind === "") return noAffinity;
  if (kind !== "ClientIP") {
    throw invalidObject(subject, "spec.sessionAffinity", `${shown(kind)} is not None or ClientIP`);
  }
  const timeoutSeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultClientIPTimeoutSeconds;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > maxClientIPTimeoutSeconds) {
    throw invalidObject(
      subject,
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
      `${shown(timeoutSeconds)} is outside 1..${maxClientIPTimeoutSeconds}`,
    );
  }
  return Object.freeze({ kind: "ClientIP", timeoutSeconds });
}
