// The small, readonly shapes both daemons work with. API objects are converted into these once
// per watch event (see convert-*.ts), and nothing else of the API object is kept: at 10,000
// Services and 100,000 endpoints every field held here costs memory, so add one only when a
// daemon reads it.

export type Protocol = "TCP" | "UDP" | "SCTP";
export type IPFamily = "IPv4" | "IPv6";
export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
export type TrafficPolicy = "Cluster" | "Local";

/** namespace/name, the key every store and tracker uses. */
export type ObjectKey = string;

export interface ServicePort {
  /** "" for a single unnamed port. */
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** 0 when the Service has no node port for this port. */
  readonly nodePort: number;
}

export type SessionAffinity =
  | { readonly kind: "None" }
  | { readonly kind: "ClientIP"; readonly timeoutSeconds: number };

export interface Service {
  readonly namespace: string;
  readonly name: string;
  readonly type: ServiceType;
  /** Empty for headless Services and ExternalName. Primary family first. */
  readonly clusterIPs: readonly string[];
  /** spec.clusterIP is "None". */
  readonly headless: boolean;
  readonly ipFamilies: readonly IPFamily[];
  /** Lower-cased target of an ExternalName Service, "" otherwise. */
  readonly externalName: string;
  readonly ports: readonly ServicePort[];
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress[].ip, without those whose ipMode is "Proxy". */
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  /** 0 unless type LoadBalancer with externalTrafficPolicy Local. */
  readonly healthCheckNodePort: number;
  readonly sessionAffinity: SessionAffinity;
  readonly publishNotReadyAddresses: boolean;
  /** spec.trafficDistribution, "" when unset. */
  readonly trafficDistribution: string;
  /** Label service.kubernetes.io/service-proxy-name: a Service with it belongs to another proxy. */
  readonly serviceProxyName: string;
  /** metadata.creationTimestamp in ms since the epoch, 0 when unset: the older of two Services claiming one node port keeps it. */
  readonly createdAtMs: number;
}

export type AddressType = "IPv4" | "IPv6" | "FQDN";

export interface EndpointPort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
}

export interface EndpointHints {
  readonly forZones: readonly string[];
  readonly forNodes: readonly string[];
}

export interface Endpoint {
  readonly addresses: readonly string[];
  /** conditions.ready; an unset condition counts as true, as the API documents. */
  readonly ready: boolean;
  /** conditions.serving; unset means the same as ready. */
  readonly serving: boolean;
  /** conditions.terminating; unset means false. */
  readonly terminating: boolean;
  /** "" when unset. */
  readonly hostname: string;
  readonly nodeName: string;
  readonly zone: string;
  /** null when the endpoint carries no hints. */
  readonly hints: EndpointHints | null;
  /** Name of the Pod in targetRef, "" when the target is not a Pod. */
  readonly podName: string;
}

export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** Label kubernetes.io/service-name; "" when the slice belongs to no Service. */
  readonly serviceName: string;
  readonly addressType: AddressType;
  readonly ports: readonly EndpointPort[];
  readonly endpoints: readonly Endpoint[];
}

export type NodeAddressType = "InternalIP" | "ExternalIP" | "Hostname" | "InternalDNS" | "ExternalDNS";

export interface NodeAddress {
  readonly type: NodeAddressType;
  readonly address: string;
}

export interface NodeTaint {
  readonly key: string;
  /** "" when unset. */
  readonly value: string;
  readonly effect: string;
}

export interface Node {
  readonly name: string;
  readonly addresses: readonly NodeAddress[];
  readonly labels: Readonly<Record<string, string>>;
  readonly podCIDRs: readonly string[];
  /** topology.kubernetes.io/zone label, "" when unset. */
  readonly zone: string;
  /** metadata.deletionTimestamp is set: the Node is being deleted (its finalizers still run). */
  readonly deleting: boolean;
  /** spec.taints; the proxy's /healthz fails on ToBeDeletedByClusterAutoscaler. */
  readonly taints: readonly NodeTaint[];
}

export interface Namespace {
  readonly name: string;
}
