// The cluster both DNS servers face: N ClusterIP Services (no selector, so no controller touches
// them) spread over namespaces of 100, each with one EndpointSlice of E ready endpoints, created
// once through the real API server with a bounded number of requests in flight. Each endpoint
// is written as the EndpointSlice controller writes a Pod's: its address, conditions, a
// reference to the Pod and the node it runs on, which both servers must read past. Names follow
// test/support/dns-bench.ts (svc-I in ns-⌊I/100⌋), so its query generators apply unchanged.
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import type { ControlPlane } from "../../support/localcluster/control-plane.ts";
import { inParallel, KubeRest } from "../kube-rest.ts";

export const PER_NAMESPACE = 100;
/** The Service CIDR the control plane is given: room for 65,534 ClusterIPs. */
export const SERVICE_CIDR = "10.96.0.0/16";
/** Skips 10.96.0.0 (the network) and 10.96.0.1 (the kubernetes Service) and a few more. */
const CLUSTER_IP_OFFSET = 16;

export function namespaceOf(i: number): string {
  return `ns-${Math.floor(i / PER_NAMESPACE)}`;
}

export function clusterIPOf(i: number): string {
  const n = i + CLUSTER_IP_OFFSET;
  return `10.96.${(n >> 8) & 255}.${n & 255}`;
}

/** Endpoint IPs: 10.128.0.0/9, one per endpoint, never reused. */
export function endpointIP(service: number, endpoint: number, perService: number): string {
  const n = service * perService + endpoint;
  return `10.${128 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`;
}

export function serviceObject(i: number): V1Service {
  const ip = clusterIPOf(i);
  return {
    metadata: { name: `svc-${i}`, namespace: namespaceOf(i) },
    spec: { type: "ClusterIP", clusterIP: ip, clusterIPs: [ip], ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }] },
  };
}

/** The nodes the endpoints' Pods are spread over. */
const BENCH_NODES = 50;

/** A Deployment's Pod name suffix: a ReplicaSet hash and five characters. */
function podSuffix(e: number): string {
  return `7d9f8c6b5-${(e * 7919 + 10_007).toString(36).padStart(5, "x").slice(-5)}`;
}

/** A UUID-shaped uid, distinct per endpoint. */
function podUid(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `5f0c3e2a-9b1d-4c7e-8a6f-${hex}`;
}

export function sliceObject(i: number, perService: number): V1EndpointSlice {
  return {
    metadata: { name: `svc-${i}-bench`, namespace: namespaceOf(i), labels: { "kubernetes.io/service-name": `svc-${i}` } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: Array.from({ length: perService }, (_, e) => ({
      addresses: [endpointIP(i, e, perService)],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `bench-node-${e % BENCH_NODES}`,
      targetRef: { kind: "Pod", namespace: namespaceOf(i), name: `svc-${i}-${podSuffix(e)}`, uid: podUid(i * perService + e) },
    })),
  };
}

export interface CreatedCluster {
  readonly services: number;
  readonly endpoints: number;
  readonly seconds: number;
}

export async function createClusterObjects(
  cp: ControlPlane,
  services: number,
  perService: number,
  progress: (message: string) => void,
): Promise<CreatedCluster> {
  const inFlight = 24;
  // Keep-alive TLS connections, one per request in flight: the API server takes them several
  // times faster than a client that opens a connection per request.
  const api = new KubeRest(cp, inFlight);
  const indexes = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const started = performance.now();
  const namespaces = Math.ceil(services / PER_NAMESPACE);
  try {
    await inParallel(indexes(namespaces), 16, async (n) => {
      await api.call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${n}` } });
    });
    // Two pools side by side: the API server allocates ClusterIPs one at a time, at a cost that
    // grows with the number allocated (its allocator lists every IPAddress to update a metric),
    // so EndpointSlices, which need no allocation, should not wait behind Services.
    let done = 0;
    const count = (): void => {
      if (++done % 2000 === 0) progress(`${done} of ${2 * services} Services and EndpointSlices created`);
    };
    await Promise.all([
      inParallel(indexes(services), inFlight / 2, async (i) => {
        await api.call("POST", `/api/v1/namespaces/${namespaceOf(i)}/services`, { apiVersion: "v1", kind: "Service", ...serviceObject(i) });
        count();
      }),
      inParallel(indexes(services), inFlight / 2, async (i) => {
        await api.call("POST", `/apis/discovery.k8s.io/v1/namespaces/${namespaceOf(i)}/endpointslices`, { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", ...sliceObject(i, perService) });
        count();
      }),
    ]);
  } finally {
    await api.close();
  }
  return { services, endpoints: services * perService, seconds: (performance.now() - started) / 1000 };
}
