// The cluster both proxies face, created once through the real API server and reused by every
// contestant: N ClusterIP Services without selectors (no controller touches them), each with one
// EndpointSlice of 10 ready endpoints written as the EndpointSlice controller would, including
// the endpoints.kubernetes.io/last-change-trigger-time annotation that network programming
// latency starts from. Growing from one scale point to the next only adds Services.
import { inParallel, type KubeRest } from "../kube-rest.ts";

export const NODE_NAME = "bench-node";
export const ENDPOINTS_PER_SERVICE = 10;
export const SERVICE_CIDR = "10.96.0.0/16";
export const TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";
const PER_NAMESPACE = 1000;
const IN_FLIGHT = 32;
/** Skips 10.96.0.0 and the kubernetes Service's 10.96.0.1. */
const CLUSTER_IP_OFFSET = 16;
/** Probe Services take ClusterIPs from here on, far above any scale point's. */
const PROBE_IP_OFFSET = 50_000;
const PROBE_NAMESPACE = "bench-probe";

function ipOfIndex(n: number, firstOctets: string): string {
  return `${firstOctets}.${(n >> 8) & 255}.${n & 255}`;
}

export function namespaceOf(i: number): string {
  return `bench-${Math.floor(i / PER_NAMESPACE)}`;
}

export function clusterIPOf(i: number): string {
  return ipOfIndex(i + CLUSTER_IP_OFFSET, "10.96");
}

/** Initial endpoint IPs: 10.128.0.0/10, one per endpoint. */
function initialEndpointIP(n: number): string {
  return `10.${128 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
}

function sliceBody(namespace: string, service: string, ips: readonly string[], port: number, triggerTime: Date): Record<string, unknown> {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${service}-bench`,
      namespace,
      labels: { "kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": "signpost-bench" },
      annotations: { [TRIGGER_TIME]: triggerTime.toISOString() },
    },
    addressType: "IPv4",
    ports: [{ name: "http", port, protocol: "TCP" }],
    endpoints: ips.map((ip, j) => ({
      addresses: [ip],
      nodeName: j === 0 ? NODE_NAME : "bench-other-node",
      conditions: { ready: true, serving: true, terminating: false },
    })),
  };
}

function serviceBody(namespace: string, name: string, clusterIP: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { type: "ClusterIP", clusterIP, clusterIPs: [clusterIP], ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }] },
  };
}

export interface ProbeService {
  readonly name: string;
  readonly clusterIP: string;
}

export class ClusterObjects {
  readonly #api: KubeRest;
  /** The current endpoint IPs of each scale Service, by index. */
  readonly endpoints: string[][] = [];
  readonly #namespaces = new Set<string>();
  #freshIPs = 0;
  readonly #changing = new Map<number, Promise<string>>();
  #probes = 0;
  /** The probe Services that exist now. */
  readonly #liveProbes: string[] = [];

  constructor(api: KubeRest) {
    this.#api = api;
  }

  get services(): number {
    return this.endpoints.length;
  }

  /** The Node both proxies run as, with the address of the bench node. */
  async createNode(address: string): Promise<void> {
    await this.#api.call("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: NODE_NAME, labels: { "kubernetes.io/hostname": NODE_NAME } } });
    const node = (await this.#api.call("GET", `/api/v1/nodes/${NODE_NAME}`)) as Record<string, unknown>;
    await this.#api.call("PUT", `/api/v1/nodes/${NODE_NAME}/status`, { ...node, status: { addresses: [{ type: "InternalIP", address }, { type: "Hostname", address: NODE_NAME }] } });
    await this.#ensureNamespace(PROBE_NAMESPACE);
  }

  async #ensureNamespace(name: string): Promise<void> {
    if (this.#namespaces.has(name)) return;
    await this.#api.call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    this.#namespaces.add(name);
  }

  /** Adds scale Services (and their slices) until there are `total`. */
  async growTo(total: number, progress: (done: number) => void): Promise<void> {
    const from = this.endpoints.length;
    for (let i = from; i < total; i += PER_NAMESPACE) await this.#ensureNamespace(namespaceOf(i));
    const indices = Array.from({ length: total - from }, (_, k) => from + k);
    let done = 0;
    await inParallel(indices, IN_FLIGHT, async (i) => {
      const ns = namespaceOf(i);
      const ips = Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => initialEndpointIP(i * ENDPOINTS_PER_SERVICE + j));
      await this.#api.call("POST", `/api/v1/namespaces/${ns}/services`, serviceBody(ns, `svc-${i}`, clusterIPOf(i)));
      await this.#api.call("POST", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, sliceBody(ns, `svc-${i}`, ips, 8080, new Date()));
      this.endpoints[i] = ips;
      if (++done % 1000 === 0) progress(done);
    });
  }

  /**
   * Replaces one endpoint of scale Service i with a fresh address, stamping the slice with the
   * trigger time as the EndpointSlice controller does. Returns the new address.
   */
  async changeOneEndpoint(i: number): Promise<string> {
    // One change at a time per Service, so what is kept here is what the API server holds.
    const previous = this.#changing.get(i) ?? Promise.resolve("");
    const next = previous.catch(() => "").then(() => this.#changeNow(i));
    this.#changing.set(i, next);
    try {
      return await next;
    } finally {
      if (this.#changing.get(i) === next) this.#changing.delete(i);
    }
  }

  async #changeNow(i: number): Promise<string> {
    const current = this.endpoints[i];
    if (current === undefined) throw new Error(`no scale Service ${i}`);
    const n = this.#freshIPs++;
    const fresh = `10.${192 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
    const next = [...current];
    next[n % ENDPOINTS_PER_SERVICE] = fresh;
    const body = sliceBody(namespaceOf(i), `svc-${i}`, next, 8080, new Date());
    await this.#api.call("PATCH", `/apis/discovery.k8s.io/v1/namespaces/${namespaceOf(i)}/endpointslices/svc-${i}-bench`, body, "application/merge-patch+json");
    this.endpoints[i] = next;
    return fresh;
  }

  /**
   * Creates a new Service, then its EndpointSlice pointing at `backend`:8080, as a Service
   * creation reaches a proxy; the slice's trigger time is the Service's creation.
   */
  async createProbeService(backend: string): Promise<ProbeService> {
    const k = this.#probes++;
    const name = `probe-${k}`;
    const clusterIP = ipOfIndex(PROBE_IP_OFFSET + (k % 10_000), "10.96");
    const created = new Date();
    await this.#api.call("POST", `/api/v1/namespaces/${PROBE_NAMESPACE}/services`, serviceBody(PROBE_NAMESPACE, name, clusterIP));
    await this.#api.call("POST", `/apis/discovery.k8s.io/v1/namespaces/${PROBE_NAMESPACE}/endpointslices`, sliceBody(PROBE_NAMESPACE, name, [backend], 8080, created));
    this.#liveProbes.push(name);
    return { name, clusterIP };
  }

  /** Deletes every probe Service and slice, so the next run faces the scale set only. */
  async deleteProbeServices(): Promise<void> {
    const names = this.#liveProbes.splice(0);
    await inParallel(names, IN_FLIGHT, async (name) => {
      await this.#api.call("DELETE", `/api/v1/namespaces/${PROBE_NAMESPACE}/services/${name}`);
      await this.#api.call("DELETE", `/apis/discovery.k8s.io/v1/namespaces/${PROBE_NAMESPACE}/endpointslices/${name}-bench`);
    });
  }

  /** The addresses a complete rule set must mention: every ClusterIP and every endpoint. */
  expectedAddresses(): { clusterIPs: string[]; endpoints: string[] } {
    return { clusterIPs: this.endpoints.map((_, i) => clusterIPOf(i)), endpoints: this.endpoints.flat() };
  }
}
