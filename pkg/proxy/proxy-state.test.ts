import { describe, expect, it } from "vitest";
import { keyOf, serviceKeyOf } from "../model/key.ts";
import type { EndpointSlice, Service } from "../model/types.ts";
import type { NodeContext } from "./proxy-state.ts";
import { buildProxyState, buildServiceState, healthCheckServices, totalEndpoints, updateProxyState } from "./proxy-state.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "./testing/model-builders.ts";

const ctx: NodeContext = { family: "IPv4", node: { name: "node1", zone: "zone-a" } };

function lookupFrom(services: readonly Service[], slices: readonly EndpointSlice[]) {
  return (key: string) => ({
    service: services.find((s) => keyOf(s) === key) ?? null,
    slices: slices.filter((s) => serviceKeyOf(s) === key),
  });
}

describe("buildProxyState", () => {
  it("holds every programmable Service with its selected endpoints per port", () => {
    const services = [
      makeService("ns", "web", { ports: [makePort("p80", 80), makePort("dns", 53, "UDP")] }),
      makeService("ns", "headless", { headless: true, clusterIPs: [] }),
    ];
    const slices = [
      makeSlice("ns", "web", [makeEndpoint("10.0.0.1"), makeEndpoint("10.0.0.2", { ready: false, serving: false })], {
        ports: [
          { name: "p80", protocol: "TCP", port: 8080 },
          { name: "dns", protocol: "UDP", port: 5353 },
        ],
      }),
    ];
    const state = buildProxyState(services, (k) => lookupFrom(services, slices)(k).slices, ctx);
    expect([...state.keys()]).toEqual(["ns/web"]);
    const web = state.get("ns/web") ?? [];
    expect(web.map((p) => [p.info.name, p.endpoints.allReachable.map((e) => e.address)])).toEqual([
      ["ns/web:p80", ["10.0.0.1:8080"]],
      ["ns/web:dns", ["10.0.0.1:5353"]],
    ]);
  });

  it("gives an empty state to a deleted Service", () => {
    expect(buildServiceState({ service: null, slices: [] }, ctx)).toEqual([]);
  });
});

describe("updateProxyState", () => {
  const local = makeService("ns", "local", {
    type: "NodePort",
    externalTrafficPolicy: "Local",
    internalTrafficPolicy: "Local",
    ports: [makePort("p80", 80, "TCP", 30080)],
  });

  it("reports a candidate only when this node's state really changed", () => {
    const services = [local, makeService("ns", "other", { clusterIPs: ["172.30.0.9"] })];
    let slices = [
      makeSlice("ns", "local", [makeEndpoint("10.0.0.1", { nodeName: "node1" }), makeEndpoint("10.0.1.1", { nodeName: "node2" })]),
      makeSlice("ns", "other", [makeEndpoint("10.0.0.5")]),
    ];
    const before = buildProxyState(services, (k) => lookupFrom(services, slices)(k).slices, ctx);

    // A remote endpoint's zone label changes (no hints): nothing this node renders depends on it.
    slices = [
      makeSlice("ns", "local", [makeEndpoint("10.0.0.1", { nodeName: "node1" }), makeEndpoint("10.0.1.1", { nodeName: "node2", zone: "z9" })]),
      makeSlice("ns", "other", [makeEndpoint("10.0.0.6")]),
    ];
    const upd = updateProxyState(before, ["ns/local", "ns/other"], lookupFrom(services, slices), ctx);
    expect([...upd.changed]).toEqual(["ns/other"]);
    expect(before.get("ns/other")?.[0]?.endpoints.allReachable[0]?.ip).toBe("10.0.0.5");
    expect(upd.state.get("ns/other")?.[0]?.endpoints.allReachable[0]?.ip).toBe("10.0.0.6");
  });

  it("removes deleted Services and reports them", () => {
    const services = [local];
    const before = buildProxyState(services, () => [], ctx);
    const upd = updateProxyState(before, ["ns/local"], lookupFrom([], []), ctx);
    expect(upd.state.has("ns/local")).toBe(false);
    expect([...upd.changed]).toEqual(["ns/local"]);
  });
});

describe("healthCheckServices", () => {
  it("counts this node's ready endpoints, not terminating ones", () => {
    const lb = makeService("ns", "lb", {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      healthCheckNodePort: 32000,
      loadBalancerIPs: ["1.2.3.4"],
      ports: [makePort("p80", 80, "TCP", 30080), makePort("p443", 443, "TCP", 30443)],
    });
    const slices = [
      makeSlice(
        "ns",
        "lb",
        [makeEndpoint("10.0.0.1", { nodeName: "node1" }), makeEndpoint("10.0.0.2", { nodeName: "node1" }), makeEndpoint("10.0.1.1", { nodeName: "node2" })],
        { ports: [{ name: "p80", protocol: "TCP", port: 80 }, { name: "p443", protocol: "TCP", port: 443 }] },
      ),
    ];
    const state = buildProxyState([lb], () => slices, ctx);
    expect(healthCheckServices(state).get("ns/lb")).toEqual({ nodePort: 32000, localEndpoints: 2 });

    const draining = [makeSlice("ns", "lb", [makeEndpoint("10.0.0.1", { nodeName: "node1", ready: false, serving: true, terminating: true }), makeEndpoint("10.0.1.1", { nodeName: "node2" })])];
    const state2 = buildProxyState([lb], () => draining, ctx);
    expect(healthCheckServices(state2).get("ns/lb")).toEqual({ nodePort: 32000, localEndpoints: 0 });
  });
});

describe("kernel capabilities and size", () => {
  it("leaves out ports on protocols the kernel cannot NAT", () => {
    const svc = makeService("ns", "mixed", { ports: [makePort("assoc", 9999, "SCTP"), makePort("p80", 80)] });
    const state = buildProxyState([svc], () => [], { ...ctx, protocols: new Set(["TCP", "UDP"]) });
    expect(state.get("ns/mixed")?.map((p) => p.info.name)).toEqual(["ns/mixed:p80"]);
  });

  it("counts the endpoints the node programs", () => {
    const svc = makeService("ns", "web", { ports: [makePort("p80", 80), makePort("p443", 443)] });
    const slice = makeSlice("ns", "web", [makeEndpoint("10.0.0.1"), makeEndpoint("10.0.0.2")], {
      ports: [
        { name: "p80", protocol: "TCP", port: 80 },
        { name: "p443", protocol: "TCP", port: 443 },
      ],
    });
    expect(totalEndpoints(buildProxyState([svc], () => [slice], ctx))).toBe(4);
  });
});
