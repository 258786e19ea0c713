// Representative clusters for the renderer's golden, jump-consistency and partial-sync tests.
// Addresses follow kube-proxy's tests: node 192.168.0.2, cluster CIDR 10.0.0.0/8, endpoints in
// 10.180.0.0/16, an outside client at 203.0.113.2.

import type { EndpointSlice, Service } from "../../model/types.ts";
import type { RenderConfig } from "../iptables/render-config.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "./model-builders.ts";
import { testNodeName } from "./render-harness.ts";

export interface Scenario {
  readonly name: string;
  readonly services: readonly Service[];
  readonly slices: readonly EndpointSlice[];
  readonly config?: Partial<RenderConfig>;
}

const local = { nodeName: testNodeName };
const remote = { nodeName: "node2" };

/** One of each kind of Service, as in kube-proxy's TestOverallIPTablesRules. */
export const overall: Scenario = {
  name: "overall",
  services: [
    makeService("ns1", "svc1", { clusterIPs: ["172.30.0.41"], ports: [makePort("p80", 80)] }),
    makeService("ns2", "svc2", {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      clusterIPs: ["172.30.0.42"],
      ports: [makePort("p80", 80, "TCP", 3001)],
      loadBalancerIPs: ["1.2.3.4"],
      externalIPs: ["192.168.99.22"],
      healthCheckNodePort: 30000,
    }),
    makeService("ns3", "svc3", { type: "NodePort", clusterIPs: ["172.30.0.43"], ports: [makePort("p80", 80, "TCP", 3003)] }),
    makeService("ns4", "svc4", { type: "NodePort", clusterIPs: ["172.30.0.44"], externalIPs: ["192.168.99.33"], ports: [makePort("p80", 80)] }),
    makeService("ns5", "svc5", {
      type: "LoadBalancer",
      clusterIPs: ["172.30.0.45"],
      ports: [makePort("p80", 80, "TCP", 3002)],
      loadBalancerIPs: ["5.6.7.8"],
      loadBalancerSourceRanges: [" 203.0.113.0/25"],
    }),
    makeService("ns6", "svc6", { clusterIPs: ["172.30.0.46"], ports: [makePort("p80", 80)] }),
  ],
  slices: [
    makeSlice("ns1", "svc1", [makeEndpoint("10.180.0.1")]),
    makeSlice("ns2", "svc2", [makeEndpoint("10.180.0.2", remote)]),
    makeSlice("ns3", "svc3", [makeEndpoint("10.180.0.3")]),
    makeSlice("ns4", "svc4", [makeEndpoint("10.180.0.4"), makeEndpoint("10.180.0.5", local)]),
    makeSlice("ns5", "svc5", [makeEndpoint("10.180.0.3")]),
  ],
};

/** Multi-port over three protocols, the same port on TCP and UDP, ClientIP affinity, three endpoints. */
export const multiProtocolAffinity: Scenario = {
  name: "multi-protocol-affinity",
  services: [
    makeService("kube-system", "dns", {
      clusterIPs: ["172.30.0.10"],
      ports: [makePort("dns", 53, "UDP"), makePort("dns-tcp", 53, "TCP"), makePort("metrics", 9153)],
    }),
    makeService("ns1", "sticky", {
      clusterIPs: ["172.30.0.50"],
      sessionAffinity: { kind: "ClientIP", timeoutSeconds: 10800 },
      ports: [makePort("", 80)],
    }),
    makeService("ns1", "sctp", { type: "NodePort", clusterIPs: ["172.30.0.51"], ports: [makePort("assoc", 9999, "SCTP", 30999)] }),
  ],
  slices: [
    makeSlice("kube-system", "dns", [makeEndpoint("10.180.0.10"), makeEndpoint("10.180.0.11"), makeEndpoint("10.180.0.12")], {
      ports: [
        { name: "dns", protocol: "UDP", port: 53 },
        { name: "dns-tcp", protocol: "TCP", port: 53 },
        { name: "metrics", protocol: "TCP", port: 9153 },
      ],
    }),
    makeSlice("ns1", "sticky", [makeEndpoint("10.180.0.20"), makeEndpoint("10.180.0.21")], {
      ports: [{ name: "", protocol: "TCP", port: 8080 }],
    }),
    makeSlice("ns1", "sctp", [makeEndpoint("10.180.0.30")], { ports: [{ name: "assoc", protocol: "SCTP", port: 9999 }] }),
  ],
};

/** Local traffic policies, --masquerade-all, --nodeport-addresses and a terminating fallback. */
export const localPolicies: Scenario = {
  name: "local-policies",
  config: { masqueradeAll: true, nodePortAddresses: ["192.168.0.0/24"], nodeIPs: ["192.168.0.2", "10.99.0.2"] },
  services: [
    makeService("ns1", "itp-local", { clusterIPs: ["172.30.0.60"], internalTrafficPolicy: "Local" }),
    makeService("ns1", "itp-local-none", { clusterIPs: ["172.30.0.61"], internalTrafficPolicy: "Local" }),
    makeService("ns1", "etp-local", {
      type: "LoadBalancer",
      clusterIPs: ["172.30.0.62"],
      externalTrafficPolicy: "Local",
      healthCheckNodePort: 31062,
      loadBalancerIPs: ["198.51.100.62"],
      loadBalancerSourceRanges: ["192.168.0.0/16"],
      ports: [makePort("p80", 80, "TCP", 30062)],
    }),
    makeService("ns1", "draining", { type: "NodePort", clusterIPs: ["172.30.0.63"], ports: [makePort("p80", 80, "TCP", 30063)] }),
  ],
  slices: [
    makeSlice("ns1", "itp-local", [makeEndpoint("10.180.0.60", local), makeEndpoint("10.180.1.60", remote)]),
    makeSlice("ns1", "itp-local-none", [makeEndpoint("10.180.1.61", remote)]),
    makeSlice("ns1", "etp-local", [makeEndpoint("10.180.0.62", local), makeEndpoint("10.180.1.62", remote)]),
    makeSlice("ns1", "draining", [
      makeEndpoint("10.180.0.63", { ...local, ready: false, serving: true, terminating: true }),
      makeEndpoint("10.180.1.63", { ...remote, ready: false, serving: false, terminating: true }),
    ]),
  ],
};

/** The IPv6 side of a dual-stack cluster. */
export const ipv6: Scenario = {
  name: "ipv6",
  config: { family: "IPv6" },
  services: [
    makeService("ns1", "dual", {
      type: "NodePort",
      clusterIPs: ["172.30.0.70", "fd00:30::70"],
      ipFamilies: ["IPv4", "IPv6"],
      externalIPs: ["192.168.99.70", "2001:db8:99::70"],
      ports: [makePort("p80", 80, "TCP", 30070)],
    }),
    makeService("ns1", "v4only", { clusterIPs: ["172.30.0.71"] }),
  ],
  slices: [
    makeSlice("ns1", "dual", [makeEndpoint("10.180.0.70")], { name: "dual-v4" }),
    makeSlice("ns1", "dual", [makeEndpoint("fd00:10::70", local)], { name: "dual-v6", addressType: "IPv6" }),
  ],
};

export const scenarios: readonly Scenario[] = [overall, multiProtocolAffinity, localPolicies, ipv6];
