// The cluster both DNS servers face: N ClusterIP Services (no selector, so no controller touches
// them) spread over namespaces of 100, each with one EndpointSlice of E ready endpoints, created
// once through the real API server with a bounded number of requests in flight. Names follow
// test/support/dns-bench.ts (svc-I in ns-⌊I/100⌋), so its query generators apply unchanged.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import type { ControlPlane } from "../../../pkg/localcluster/control-plane.ts";

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

export function sliceObject(i: number, perService: number): V1EndpointSlice {
  return {
    metadata: { name: `svc-${i}-bench`, namespace: namespaceOf(i), labels: { "kubernetes.io/service-name": `svc-${i}` } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: Array.from({ length: perService }, (_, e) => ({
      addresses: [endpointIP(i, e, perService)],
      conditions: { ready: true, serving: true, terminating: false },
    })),
  };
}

/** Runs `task` for 0..count-1 with at most `inFlight` running at once; the first error wins. */
export async function pool(count: number, inFlight: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, () => worker()));
}

export interface CreatedCluster {
  readonly services: number;
  readonly endpoints: number;
  readonly seconds: number;
}

/**
 * POSTs objects as the admin over keep-alive TLS connections (one per request in flight), which
 * the API server takes several times faster than a client that opens a connection per request.
 */
class ApiWriter {
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(cp: ControlPlane, inFlight: number) {
    this.#url = new URL(cp.apiServerUrl);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: inFlight,
      ca: readFileSync(cp.pki.ca.cert),
      cert: readFileSync(cp.pki.admin.cert),
      key: readFileSync(cp.pki.admin.key),
    });
  }

  post(path: string, body: unknown): Promise<void> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.#url.hostname, port: this.#url.port, path, method: "POST", agent: this.#agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`POST ${path}: ${String(res.statusCode)} ${text.slice(0, 500)}`))));
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export async function createClusterObjects(
  cp: ControlPlane,
  services: number,
  perService: number,
  progress: (message: string) => void,
): Promise<CreatedCluster> {
  const inFlight = 24;
  const api = new ApiWriter(cp, inFlight);
  const started = performance.now();
  const namespaces = Math.ceil(services / PER_NAMESPACE);
  try {
    await pool(namespaces, 16, async (n) => {
      await api.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${n}` } });
    });
    // Two pools side by side: the API server allocates ClusterIPs one at a time, at a cost that
    // grows with the number allocated (its allocator lists every IPAddress to update a metric),
    // so EndpointSlices, which need no allocation, should not wait behind Services.
    let done = 0;
    const count = (): void => {
      if (++done % 2000 === 0) progress(`${done} of ${2 * services} Services and EndpointSlices created`);
    };
    await Promise.all([
      pool(services, inFlight / 2, async (i) => {
        await api.post(`/api/v1/namespaces/${namespaceOf(i)}/services`, { apiVersion: "v1", kind: "Service", ...serviceObject(i) });
        count();
      }),
      pool(services, inFlight / 2, async (i) => {
        await api.post(`/apis/discovery.k8s.io/v1/namespaces/${namespaceOf(i)}/endpointslices`, { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", ...sliceObject(i, perService) });
        count();
      }),
    ]);
  } finally {
    api.close();
  }
  return { services, endpoints: services * perService, seconds: (performance.now() - started) / 1000 };
}
