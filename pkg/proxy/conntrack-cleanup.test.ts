import { describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../model/types.ts";
import { type ConntrackFlow, staleConntrackEntries, staleKernelFlows } from "./conntrack-cleanup.ts";
import { buildProxyState } from "./proxy-state.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "./testing/model-builders.ts";

const dns = makeService("kube-system", "dns", {
  clusterIPs: ["172.30.0.10"],
  externalIPs: ["192.168.99.10"],
  ports: [makePort("dns", 53, "UDP", 30053), makePort("dns-tcp", 53, "TCP")],
});
const udpSlice = (...ips: string[]): EndpointSlice =>
  makeSlice("kube-system", "dns", ips.map((ip) => makeEndpoint(ip)), {
    ports: [
      { name: "dns", protocol: "UDP", port: 53 },
      { name: "dns-tcp", protocol: "TCP", port: 53 },
    ],
  });
const state = (services: readonly Service[], slices: readonly EndpointSlice[]) =>
  buildProxyState(services, () => slices, { family: "IPv4", node: { name: "node1", zone: "" } });

describe("staleConntrackEntries", () => {
  it("clears flows to an endpoint that went away, on every Service IP and the node port", () => {
    const out = staleConntrackEntries(state([dns], [udpSlice("10.0.0.1", "10.0.0.2")]), state([dns], [udpSlice("10.0.0.1")]));
    expect(out).toEqual([
      { kind: "service-ip-to-endpoint", serviceIP: "172.30.0.10", endpointIP: "10.0.0.2" },
      { kind: "service-ip-to-endpoint", serviceIP: "192.168.99.10", endpointIP: "10.0.0.2" },
      { kind: "node-port-to-endpoint", nodePort: 30053, endpointIP: "10.0.0.2" },
    ]);
  });

  it("clears every flow to a Service that gets its first endpoint", () => {
    const out = staleConntrackEntries(state([dns], []), state([dns], [udpSlice("10.0.0.1")]));
    expect(out).toEqual([
      { kind: "service-ip", serviceIP: "172.30.0.10" },
      { kind: "service-ip", serviceIP: "192.168.99.10" },
      { kind: "node-port", nodePort: 30053 },
    ]);
  });

  it("clears every flow to a deleted Service", () => {
    const out = staleConntrackEntries(state([dns], [udpSlice("10.0.0.1")]), state([], []));
    expect(out).toContainEqual({ kind: "service-ip", serviceIP: "172.30.0.10" });
  });

  it("leaves TCP alone and does nothing when nothing moved", () => {
    const tcpOnly = makeService("ns", "web");
    const webSlices = (...ips: string[]) => [makeSlice("ns", "web", ips.map((ip) => makeEndpoint(ip)))];
    expect(staleConntrackEntries(state([tcpOnly], webSlices("10.0.0.1", "10.0.0.2")), state([tcpOnly], webSlices("10.0.0.1")))).toEqual([]);
    const s = state([dns], [udpSlice("10.0.0.1")]);
    expect(staleConntrackEntries(s, s)).toEqual([]);
  });

  it("keeps the flows of a replica in its graceful shutdown while it serves, and clears them once it stops", () => {
    const slice = (second: Partial<Parameters<typeof makeEndpoint>[1]> | null): EndpointSlice =>
      makeSlice("kube-system", "dns", [makeEndpoint("10.0.0.1"), ...(second === null ? [] : [makeEndpoint("10.0.0.2", second)])], {
        ports: [{ name: "dns", protocol: "UDP", port: 53 }, { name: "dns-tcp", protocol: "TCP", port: 53 }],
      });
    const both = state([dns], [slice({})]);
    const draining = state([dns], [slice({ ready: false, serving: true, terminating: true })]);
    const stopped = state([dns], [slice({ ready: false, serving: false, terminating: true })]);
    const gone = state([dns], [slice(null)]);
    // Out of the rules (a ready endpoint remains) but still serving: its flows stay, as kube-proxy keeps them.
    expect(staleConntrackEntries(both, draining)).toEqual([]);
    expect(staleConntrackEntries(draining, stopped)).toContainEqual({ kind: "service-ip-to-endpoint", serviceIP: "172.30.0.10", endpointIP: "10.0.0.2" });
    expect(staleConntrackEntries(draining, gone)).toContainEqual({ kind: "service-ip-to-endpoint", serviceIP: "172.30.0.10", endpointIP: "10.0.0.2" });
    // After a restart, the kernel's flows to it are kept too while it serves.
    const flowTo = { origSrc: "10.0.9.9", origDst: "172.30.0.10", origSport: 40000, origDport: 53, replySrc: "10.0.0.2", replySport: 53 };
    expect(staleKernelFlows(draining, [flowTo])).toEqual([]);
    expect(staleKernelFlows(stopped, [flowTo])).toHaveLength(1);
  });

  it("looks only at the keys it is given", () => {
    const out = staleConntrackEntries(state([dns], [udpSlice("10.0.0.1", "10.0.0.2")]), state([dns], [udpSlice("10.0.0.1")]), ["ns/other"]);
    expect(out).toEqual([]);
  });
});

describe("staleKernelFlows", () => {
  const flow = (origDst: string, origDport: number, replySrc: string, replySport: number, origSport = 40000): ConntrackFlow => ({
    origSrc: "10.0.9.9", origDst, origSport, origDport, replySrc, replySport,
  });

  it("picks the flows answered from somewhere that is not an endpoint, one filter per pair", () => {
    const now = state([dns], [udpSlice("10.0.0.1")]);
    const out = staleKernelFlows(now, [
      flow("172.30.0.10", 53, "10.0.0.1", 53),
      flow("172.30.0.10", 53, "10.0.0.2", 53, 1),
      flow("172.30.0.10", 53, "10.0.0.2", 53, 2),
      flow("192.168.99.10", 53, "192.168.99.10", 53),
      flow("172.30.0.1", 30053, "10.0.0.7", 53),
      flow("198.51.100.1", 53, "198.51.100.1", 53),
    ]);
    expect(out).toEqual([
      { kind: "replies-from", origDst: "172.30.0.10", origDport: 53, replySrc: "10.0.0.2", replySport: 53 },
      { kind: "replies-from", origDst: "192.168.99.10", origDport: 53, replySrc: "192.168.99.10", replySport: 53 },
      { kind: "replies-from", origDst: null, origDport: 30053, replySrc: "10.0.0.7", replySport: 53 },
    ]);
  });

  it("leaves a port without endpoints alone", () => {
    expect(staleKernelFlows(state([dns], []), [flow("172.30.0.10", 53, "10.0.0.2", 53)])).toEqual([]);
  });
});
