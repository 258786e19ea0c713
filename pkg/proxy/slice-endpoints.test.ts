import { describe, expect, it } from "vitest";
import { endpointsForPort } from "./slice-endpoints.ts";
import { makeEndpoint, makeSlice } from "./testing/model-builders.ts";

describe("endpointsForPort", () => {
  it("matches the port by name and protocol and sorts by address", () => {
    const slice = makeSlice("ns", "svc", [makeEndpoint("10.0.0.2"), makeEndpoint("10.0.0.10")], {
      ports: [
        { name: "http", protocol: "TCP", port: 8080 },
        { name: "dns", protocol: "UDP", port: 5353 },
      ],
    });
    expect(endpointsForPort([slice], "http", "TCP", "IPv4", "node1").map((e) => e.address)).toEqual(["10.0.0.10:8080", "10.0.0.2:8080"]);
    expect(endpointsForPort([slice], "dns", "UDP", "IPv4", "node1").map((e) => e.address)).toEqual(["10.0.0.10:5353", "10.0.0.2:5353"]);
    expect(endpointsForPort([slice], "http", "UDP", "IPv4", "node1")).toEqual([]);
  });

  it("skips slices of the other family and endpoints without addresses", () => {
    const v6 = makeSlice("ns", "svc", [makeEndpoint("fd00::1")], { addressType: "IPv6", name: "v6" });
    const v4 = makeSlice("ns", "svc", [makeEndpoint("10.0.0.1"), { ...makeEndpoint("x"), addresses: [] }], { name: "v4" });
    expect(endpointsForPort([v6, v4], "p80", "TCP", "IPv4", "n").map((e) => e.ip)).toEqual(["10.0.0.1"]);
    expect(endpointsForPort([v6, v4], "p80", "TCP", "IPv6", "n").map((e) => e.address)).toEqual(["[fd00::1]:80"]);
  });

  it("uses the first address and marks endpoints on this node local", () => {
    const slice = makeSlice("ns", "svc", [
      makeEndpoint("10.0.0.1", { addresses: ["10.0.0.1", "10.0.0.99"], nodeName: "node1" }),
      makeEndpoint("10.0.0.2", { nodeName: "node2" }),
    ]);
    const eps = endpointsForPort([slice], "p80", "TCP", "IPv4", "node1");
    expect(eps.map((e) => [e.ip, e.isLocal])).toEqual([
      ["10.0.0.1", true],
      ["10.0.0.2", false],
    ]);
  });

  it("merges an endpoint listed in two slices, the later copy winning when neither terminates", () => {
    const a = makeSlice("ns", "svc", [makeEndpoint("10.0.0.1")], { name: "a" });
    const b = makeSlice("ns", "svc", [makeEndpoint("10.0.0.1", { nodeName: "node1" })], { name: "b" });
    const eps = endpointsForPort([a, b], "p80", "TCP", "IPv4", "node1");
    expect(eps).toHaveLength(1);
    expect(eps[0]?.isLocal).toBe(true);
  });

  it("keeps the running copy of an endpoint listed in two slices, in either slice order", () => {
    // A slice rebalance: ready in one slice, terminating and not serving in the other.
    const running = makeSlice("ns", "svc", [makeEndpoint("10.0.0.1", { nodeName: "node2" })], { name: "new" });
    const leaving = makeSlice("ns", "svc", [makeEndpoint("10.0.0.1", { ready: false, serving: false, terminating: true, nodeName: "node2" })], { name: "old" });
    for (const order of [[running, leaving], [leaving, running]]) {
      const eps = endpointsForPort(order, "p80", "TCP", "IPv4", "node1");
      expect(eps.map((e) => [e.address, e.ready, e.serving, e.terminating])).toEqual([["10.0.0.1:80", true, true, false]]);
    }
  });

  it("counts an endpoint as elsewhere only when named on another node and outside this node's pod CIDRs", () => {
    const slice = makeSlice("ns", "svc", [
      makeEndpoint("10.244.1.5", { nodeName: "ghost" }),
      makeEndpoint("10.244.2.5", { nodeName: "node2" }),
      makeEndpoint("10.244.2.6"),
      makeEndpoint("10.244.1.7", { nodeName: "node1" }),
    ]);
    const elsewhere = (cidrs?: readonly string[]) =>
      endpointsForPort([slice], "p80", "TCP", "IPv4", "node1", cidrs).map((e) => [e.ip, e.elsewhere]);
    expect(elsewhere(["10.244.1.0/24", "fd00:1::/64"])).toEqual([
      ["10.244.1.5", false],
      ["10.244.1.7", false],
      ["10.244.2.5", true],
      ["10.244.2.6", false],
    ]);
    // Without pod CIDRs the nodeName decides.
    expect(elsewhere()).toEqual([
      ["10.244.1.5", true],
      ["10.244.1.7", false],
      ["10.244.2.5", true],
      ["10.244.2.6", false],
    ]);
  });

  it("carries conditions and hints", () => {
    const slice = makeSlice("ns", "svc", [
      makeEndpoint("10.0.0.1", { ready: false, serving: true, terminating: true, hints: { forZones: ["z1"], forNodes: ["n1"] } }),
    ]);
    expect(endpointsForPort([slice], "p80", "TCP", "IPv4", "n")[0]).toMatchObject({
      ready: false,
      serving: true,
      terminating: true,
      zoneHints: ["z1"],
      nodeHints: ["n1"],
    });
  });
});
