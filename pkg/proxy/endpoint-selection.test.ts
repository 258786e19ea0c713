import { describe, expect, it } from "vitest";
import type { Service } from "../model/types.ts";
import type { NodeTopology } from "./endpoint-selection.ts";
import { selectEndpoints, topologyModeFromHints } from "./endpoint-selection.ts";
import type { ServicePortInfo } from "./service-ports.ts";
import { servicePortsForFamily } from "./service-ports.ts";
import type { EndpointInfo } from "./slice-endpoints.ts";
import { makePort, makeService } from "./testing/model-builders.ts";

const node: NodeTopology = { name: "node1", zone: "zone-a" };

function ep(ip: string, o: Partial<EndpointInfo> = {}): EndpointInfo {
  return {
    ip,
    port: 80,
    address: `${ip}:80`,
    isLocal: false,
    elsewhere: o.isLocal !== true,
    ready: true,
    serving: true,
    terminating: false,
    nodeName: o.isLocal === true ? "node1" : "node2",
    zoneHints: [],
    nodeHints: [],
    ...o,
  };
}

const terminating = { ready: false, serving: true, terminating: true } as const;
const terminatingNotServing = { ready: false, serving: false, terminating: true } as const;
const notReady = { ready: false, serving: false, terminating: false } as const;

function port(o: Partial<Service> = {}): ServicePortInfo {
  const [p] = servicePortsForFamily(makeService("ns", "svc", o), "IPv4");
  if (p === undefined) throw new Error("no port");
  return p;
}

const clusterIPPort = port();
const nodePortCluster = port({ type: "NodePort", ports: [makePort("p80", 80, "TCP", 30080)] });
const nodePortLocal = port({ type: "NodePort", externalTrafficPolicy: "Local", ports: [makePort("p80", 80, "TCP", 30080)] });
const internalLocal = port({ internalTrafficPolicy: "Local" });
const bothLocal = port({
  type: "NodePort",
  internalTrafficPolicy: "Local",
  externalTrafficPolicy: "Local",
  ports: [makePort("p80", 80, "TCP", 30080)],
});

const ips = (eps: readonly EndpointInfo[]): string[] => eps.map((e) => e.ip);

describe("selectEndpoints: readiness", () => {
  it("uses the ready endpoints", () => {
    const s = selectEndpoints(clusterIPPort, [ep("10.0.0.1"), ep("10.0.0.2", notReady), ep("10.0.0.3")], node);
    expect(ips(s.cluster)).toEqual(["10.0.0.1", "10.0.0.3"]);
    expect(ips(s.allReachable)).toEqual(["10.0.0.1", "10.0.0.3"]);
    expect(s.local).toEqual([]);
    expect(s.hasAnyEndpoints).toBe(true);
  });

  it("reports no endpoints when there are none", () => {
    const s = selectEndpoints(clusterIPPort, [], node);
    expect(s.hasAnyEndpoints).toBe(false);
    expect(s.allReachable).toEqual([]);
  });

  it("reports no endpoints when none is ready or serving", () => {
    const s = selectEndpoints(clusterIPPort, [ep("10.0.0.1", notReady), ep("10.0.0.2", terminatingNotServing)], node);
    expect(s.hasAnyEndpoints).toBe(false);
    expect(s.cluster).toEqual([]);
  });

  it("ignores terminating endpoints while any endpoint is ready", () => {
    const s = selectEndpoints(clusterIPPort, [ep("10.0.0.1"), ep("10.0.0.2", terminating)], node);
    expect(ips(s.cluster)).toEqual(["10.0.0.1"]);
  });

  it("falls back to serving-and-terminating endpoints when none is ready", () => {
    const s = selectEndpoints(
      clusterIPPort,
      [ep("10.0.0.1", terminating), ep("10.0.0.2", terminatingNotServing), ep("10.0.0.3", notReady)],
      node,
    );
    expect(ips(s.cluster)).toEqual(["10.0.0.1"]);
    expect(s.hasAnyEndpoints).toBe(true);
  });
});

describe("topologyModeFromHints", () => {
  it("prefers the zone when every ready endpoint has a zone hint and one names ours", () => {
    const eps = [ep("10.0.0.1", { zoneHints: ["zone-a"] }), ep("10.0.0.2", { zoneHints: ["zone-b"] })];
    expect(topologyModeFromHints(eps, node)).toBe("PreferSameZone");
  });

  it("ignores zone hints when one ready endpoint has none", () => {
    const eps = [ep("10.0.0.1", { zoneHints: ["zone-a"] }), ep("10.0.0.2")];
    expect(topologyModeFromHints(eps, node)).toBe("");
  });

  it("ignores endpoints that are not ready when judging hints", () => {
    const eps = [ep("10.0.0.1", { zoneHints: ["zone-a"] }), ep("10.0.0.2", notReady)];
    expect(topologyModeFromHints(eps, node)).toBe("PreferSameZone");
  });

  it("ignores zone hints when none names this node's zone", () => {
    const eps = [ep("10.0.0.1", { zoneHints: ["zone-b"] }), ep("10.0.0.2", { zoneHints: ["zone-c"] })];
    expect(topologyModeFromHints(eps, node)).toBe("");
  });

  it("ignores zone hints on a node without a zone label", () => {
    const eps = [ep("10.0.0.1", { zoneHints: ["zone-a"] })];
    expect(topologyModeFromHints(eps, { name: "node1", zone: "" })).toBe("");
  });

  it("prefers the node when every ready endpoint has a node hint and one names this node", () => {
    const eps = [
      ep("10.0.0.1", { nodeHints: ["node1"], zoneHints: ["zone-a"] }),
      ep("10.0.0.2", { nodeHints: ["node2"], zoneHints: ["zone-a"] }),
    ];
    expect(topologyModeFromHints(eps, node)).toBe("PreferSameNode");
    expect(topologyModeFromHints(eps, node, { preferSameNode: false })).toBe("PreferSameZone");
  });

  it("falls back to zone hints when no node hint names this node", () => {
    const eps = [
      ep("10.0.0.1", { nodeHints: ["node3"], zoneHints: ["zone-a"] }),
      ep("10.0.0.2", { nodeHints: ["node2"], zoneHints: ["zone-b"] }),
    ];
    expect(topologyModeFromHints(eps, node)).toBe("PreferSameZone");
  });

  it("has no mode without ready endpoints", () => {
    expect(topologyModeFromHints([ep("10.0.0.1", { ...terminating, zoneHints: ["zone-a"] })], node)).toBe("");
  });
});

describe("selectEndpoints: topology", () => {
  it("keeps only the endpoints hinted for this zone", () => {
    const eps = [
      ep("10.0.0.1", { zoneHints: ["zone-a"] }),
      ep("10.0.0.2", { zoneHints: ["zone-b"] }),
      ep("10.0.0.3", { zoneHints: ["zone-a", "zone-c"] }),
    ];
    const s = selectEndpoints(clusterIPPort, eps, node);
    expect(s.topologyMode).toBe("PreferSameZone");
    expect(ips(s.cluster)).toEqual(["10.0.0.1", "10.0.0.3"]);
  });

  it("keeps every ready endpoint when one lacks hints", () => {
    const eps = [ep("10.0.0.1", { zoneHints: ["zone-a"] }), ep("10.0.0.2")];
    expect(ips(selectEndpoints(clusterIPPort, eps, node).cluster)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("keeps only the endpoints hinted for this node", () => {
    const eps = [ep("10.0.0.1", { nodeHints: ["node1"] }), ep("10.0.0.2", { nodeHints: ["node2"] })];
    const s = selectEndpoints(clusterIPPort, eps, node);
    expect(s.topologyMode).toBe("PreferSameNode");
    expect(ips(s.cluster)).toEqual(["10.0.0.1"]);
  });

  it("does not apply topology to a terminating fallback", () => {
    const eps = [ep("10.0.0.1", { ...terminating, zoneHints: ["zone-b"] }), ep("10.0.0.2", { ...terminating, zoneHints: ["zone-a"] })];
    expect(ips(selectEndpoints(clusterIPPort, eps, node).cluster)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });
});

describe("selectEndpoints: internalTrafficPolicy Local", () => {
  it("uses only this node's endpoints and no Cluster list", () => {
    const s = selectEndpoints(internalLocal, [ep("10.0.0.1", { isLocal: true }), ep("10.0.0.2")], node);
    expect(s.cluster).toEqual([]);
    expect(ips(s.local)).toEqual(["10.0.0.1"]);
    expect(ips(s.allReachable)).toEqual(["10.0.0.1"]);
    expect(s.hasAnyEndpoints).toBe(true);
  });

  it("has endpoints in the cluster but none here when all are remote", () => {
    const s = selectEndpoints(internalLocal, [ep("10.0.0.2"), ep("10.0.0.3")], node);
    expect(s.local).toEqual([]);
    expect(s.allReachable).toEqual([]);
    expect(s.hasAnyEndpoints).toBe(true);
  });

  it("falls back to local serving-and-terminating endpoints even when remote ones are ready", () => {
    const s = selectEndpoints(internalLocal, [ep("10.0.0.1", { ...terminating, isLocal: true }), ep("10.0.0.2")], node);
    expect(ips(s.local)).toEqual(["10.0.0.1"]);
  });

  it("ignores topology hints for the Local list", () => {
    const eps = [ep("10.0.0.1", { isLocal: true, zoneHints: ["zone-b"] }), ep("10.0.0.2", { zoneHints: ["zone-a"] })];
    expect(ips(selectEndpoints(internalLocal, eps, node).local)).toEqual(["10.0.0.1"]);
  });
});

describe("selectEndpoints: externalTrafficPolicy Local", () => {
  it("keeps the Cluster list for short-circuited pod and node traffic, and a Local list", () => {
    const s = selectEndpoints(nodePortLocal, [ep("10.0.0.1", { isLocal: true }), ep("10.0.0.2")], node);
    expect(ips(s.cluster)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(ips(s.local)).toEqual(["10.0.0.1"]);
    expect(ips(s.allReachable)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("has an empty Local list when no endpoint is here", () => {
    const s = selectEndpoints(nodePortLocal, [ep("10.0.0.2")], node);
    expect(s.local).toEqual([]);
    expect(s.hasAnyEndpoints).toBe(true);
  });

  it("merges a local terminating endpoint with remote ready ones", () => {
    const s = selectEndpoints(nodePortLocal, [ep("10.0.0.1", { ...terminating, isLocal: true }), ep("10.0.0.2")], node);
    expect(ips(s.cluster)).toEqual(["10.0.0.2"]);
    expect(ips(s.local)).toEqual(["10.0.0.1"]);
    expect(ips(s.allReachable)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("merges a local endpoint that topology keeps out of the Cluster list", () => {
    const eps = [ep("10.0.0.1", { isLocal: true, zoneHints: ["zone-b"] }), ep("10.0.0.2", { zoneHints: ["zone-a"] })];
    const s = selectEndpoints(nodePortLocal, eps, node);
    expect(ips(s.cluster)).toEqual(["10.0.0.2"]);
    expect(ips(s.local)).toEqual(["10.0.0.1"]);
    expect(ips(s.allReachable)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("does not apply to a Service without external destinations", () => {
    const clusterOnly = port({ externalTrafficPolicy: "Local" });
    const s = selectEndpoints(clusterOnly, [ep("10.0.0.1", { isLocal: true }), ep("10.0.0.2")], node);
    expect(s.local).toEqual([]);
    expect(ips(s.cluster)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("with both policies Local, still keeps the Cluster list because the port is external", () => {
    const s = selectEndpoints(bothLocal, [ep("10.0.0.1", { isLocal: true }), ep("10.0.0.2")], node);
    expect(ips(s.cluster)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(ips(s.local)).toEqual(["10.0.0.1"]);
  });

  it("with Cluster policy has no Local list", () => {
    const s = selectEndpoints(nodePortCluster, [ep("10.0.0.1", { isLocal: true }), ep("10.0.0.2")], node);
    expect(s.local).toEqual([]);
    expect(ips(s.allReachable)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });
});
