// API objects for proxy integration tests: a Node with the test node's address, selector-less
// Services (the shared control plane runs no controller manager) and EndpointSlices written by
// hand, as the EndpointSlice controller would, trigger-time annotation included.
import type { CoreV1Api, DiscoveryV1Api, V1EndpointSlice, V1Service } from "@kubernetes/client-node";

export async function createNode(core: CoreV1Api, name: string, address: string, podCIDR?: string): Promise<void> {
  const spec = podCIDR === undefined ? {} : { spec: { podCIDR, podCIDRs: [podCIDR] } };
  await core.createNode({ body: { metadata: { name }, ...spec, status: { addresses: [{ type: "InternalIP", address }] } } });
  const node = await core.readNode({ name });
  if ((node.status?.addresses ?? []).length === 0) {
    await core.replaceNodeStatus({ name, body: { ...node, status: { addresses: [{ type: "InternalIP", address }] } } });
  }
}

export interface PortSpec {
  readonly name: string;
  readonly port: number;
  readonly protocol?: "TCP" | "UDP" | "SCTP";
}

export function serviceSpec(namespace: string, name: string, ports: readonly PortSpec[], spec: Partial<NonNullable<V1Service["spec"]>> = {}): V1Service {
  return {
    metadata: { name, namespace },
    spec: { ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" })), ...spec },
  };
}

export interface EndpointSpec {
  readonly ip: string;
  readonly nodeName: string;
  readonly ready?: boolean;
}

/** An EndpointSlice of one family; an IPv6 one gets a name of its own, as the controller would. */
export function sliceSpec(namespace: string, serviceName: string, targetPorts: readonly PortSpec[], endpoints: readonly EndpointSpec[], addressType: "IPv4" | "IPv6" = "IPv4"): V1EndpointSlice {
  return {
    metadata: {
      name: addressType === "IPv4" ? `${serviceName}-manual` : `${serviceName}-manual-v6`,
      namespace,
      labels: { "kubernetes.io/service-name": serviceName },
      annotations: { "endpoints.kubernetes.io/last-change-trigger-time": new Date().toISOString() },
    },
    addressType,
    ports: targetPorts.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.nodeName,
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
    })),
  };
}

/** Creates or replaces the one EndpointSlice of a Service. */
export async function putSlice(discovery: DiscoveryV1Api, slice: V1EndpointSlice): Promise<void> {
  const namespace = slice.metadata?.namespace ?? "";
  const name = slice.metadata?.name ?? "";
  try {
    const old = await discovery.readNamespacedEndpointSlice({ namespace, name });
    await discovery.replaceNamespacedEndpointSlice({ namespace, name, body: { ...slice, metadata: { ...slice.metadata, resourceVersion: old.metadata?.resourceVersion } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await discovery.createNamespacedEndpointSlice({ namespace, body: slice });
  }
}

export async function clusterIPOf(core: CoreV1Api, namespace: string, name: string): Promise<string> {
  const svc = await core.readNamespacedService({ namespace, name });
  return svc.spec?.clusterIP ?? "";
}
