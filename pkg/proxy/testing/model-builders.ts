// Builders for pkg/model objects in proxy tests: every field has the API's default, a test names
// only what it is about.

import type { Endpoint, EndpointSlice, Node, Protocol, Service, ServicePort } from "../../model/types.ts";
import { serviceDefaults } from "../../model/testing/service-defaults.ts";

export function makeService(namespace: string, name: string, overrides: Partial<Service> = {}): Service {
  return { ...serviceDefaults(namespace, name), clusterIPs: ["172.30.0.1"], ports: [makePort("p80", 80)], ...overrides };
}

export function makePort(name: string, port: number, protocol: Protocol = "TCP", nodePort = 0): ServicePort {
  return { name, port, protocol, nodePort };
}

export function makeEndpoint(address: string, overrides: Partial<Endpoint> = {}): Endpoint {
  const base: Endpoint = {
    addresses: [address],
    ready: true,
    serving: true,
    terminating: false,
    hostname: "",
    nodeName: "",
    zone: "",
    hints: null,
    podName: "",
  };
  return { ...base, ...overrides };
}

export function makeSlice(
  namespace: string,
  serviceName: string,
  endpoints: readonly Endpoint[],
  overrides: Partial<EndpointSlice> = {},
): EndpointSlice {
  const base: EndpointSlice = {
    namespace,
    name: `${serviceName}-abc12`,
    serviceName,
    addressType: "IPv4",
    ports: [{ name: "p80", protocol: "TCP", port: 80 }],
    endpoints,
  };
  return { ...base, ...overrides };
}

export function makeNode(name: string, overrides: Partial<Node> = {}): Node {
  const base: Node = {
    name,
    addresses: [{ type: "InternalIP", address: "192.168.0.2" }],
    labels: {},
    podCIDRs: ["10.0.0.0/24"],
    zone: "",
    deleting: false,
    taints: [],
  };
  return { ...base, ...overrides };
}
