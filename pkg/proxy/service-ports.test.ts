import { describe, expect, it } from "vitest";
import {
  externallyAccessible,
  programmingProblems,
  servicePortName,
  servicePortsForFamily,
  skipReason,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from "./service-ports.ts";
import { makePort, makeService } from "./testing/model-builders.ts";

describe("servicePortsForFamily", () => {
  it("gives one entry per port with kube-proxy's port name", () => {
    const svc = makeService("ns", "web", { ports: [makePort("http", 80), makePort("dns", 53, "UDP")] });
    const ports = servicePortsForFamily(svc, "IPv4");
    expect(ports.map((p) => [p.name, p.protocol, p.port])).toEqual([
      ["ns/web:http", "TCP", 80],
      ["ns/web:dns", "UDP", 53],
    ]);
    expect(servicePortName("ns", "web", "")).toBe("ns/web");
  });

  it("takes the cluster IP and addresses of its own family only", () => {
    const svc = makeService("ns", "dual", {
      clusterIPs: ["172.30.0.1", "fd00:30::1"],
      ipFamilies: ["IPv4", "IPv6"],
      externalIPs: ["192.168.99.1", "2001:db8::99"],
      loadBalancerIPs: ["1.2.3.4", "2001:db8::1234"],
      loadBalancerSourceRanges: ["203.0.113.0/24", "2001:db8:1::/48"],
    });
    const [v4] = servicePortsForFamily(svc, "IPv4");
    const [v6] = servicePortsForFamily(svc, "IPv6");
    expect(v4).toMatchObject({ clusterIP: "172.30.0.1", externalIPs: ["192.168.99.1"], loadBalancerIPs: ["1.2.3.4"], loadBalancerSourceRanges: ["203.0.113.0/24"] });
    expect(v6).toMatchObject({ clusterIP: "fd00:30::1", externalIPs: ["2001:db8::99"], loadBalancerIPs: ["2001:db8::1234"], loadBalancerSourceRanges: ["2001:db8:1::/48"] });
  });

  it("skips Services that are not this proxy's to program", () => {
    expect(skipReason(makeService("ns", "h", { headless: true, clusterIPs: [] }), "IPv4")).toBe("is headless");
    expect(skipReason(makeService("ns", "x", { type: "ExternalName", clusterIPs: [] }), "IPv4")).toBe("is an ExternalName Service");
    expect(skipReason(makeService("ns", "o", { serviceProxyName: "other" }), "IPv4")).toBe("belongs to service proxy other");
    expect(skipReason(makeService("ns", "v4"), "IPv6")).toBe("has no IPv6 cluster IP");
    expect(servicePortsForFamily(makeService("ns", "v4"), "IPv6")).toEqual([]);
    expect(skipReason(makeService("ns", "ok"), "IPv4")).toBeNull();
  });

  it("carries affinity and policies", () => {
    const [p] = servicePortsForFamily(
      makeService("ns", "a", { sessionAffinity: { kind: "ClientIP", timeoutSeconds: 600 }, internalTrafficPolicy: "Local" }),
      "IPv4",
    );
    expect(p?.affinitySeconds).toBe(600);
    expect(p?.internalPolicyLocal).toBe(true);
    expect(p?.externalPolicyLocal).toBe(false);
  });
});

describe("policy helpers", () => {
  const first = (svc: ReturnType<typeof makeService>) => {
    const [p] = servicePortsForFamily(svc, "IPv4");
    if (p === undefined) throw new Error("no port");
    return p;
  };

  it("counts node ports, external IPs and LB IPs as external", () => {
    expect(externallyAccessible(first(makeService("ns", "a")))).toBe(false);
    expect(externallyAccessible(first(makeService("ns", "a", { ports: [makePort("p", 80, "TCP", 30000)] })))).toBe(true);
    expect(externallyAccessible(first(makeService("ns", "a", { externalIPs: ["1.1.1.1"] })))).toBe(true);
    expect(externallyAccessible(first(makeService("ns", "a", { loadBalancerIPs: ["1.1.1.1"] })))).toBe(true);
  });

  it("needs Cluster endpoints for external traffic even under two Local policies", () => {
    const p = first(makeService("ns", "a", { internalTrafficPolicy: "Local", externalTrafficPolicy: "Local", externalIPs: ["1.1.1.1"] }));
    expect(usesClusterEndpoints(p)).toBe(true);
    expect(usesLocalEndpoints(p)).toBe(true);
    const internalOnly = first(makeService("ns", "a", { internalTrafficPolicy: "Local" }));
    expect(usesClusterEndpoints(internalOnly)).toBe(false);
  });
});

describe("programmingProblems", () => {
  const caps = { families: ["IPv4"] as const, protocols: new Set(["TCP", "UDP"] as const) };

  it("names ports on protocols the kernel lacks and Services of a family the node does not serve", () => {
    const sctp = makeService("ns", "s", { ports: [makePort("assoc", 9999, "SCTP"), makePort("", 80)] });
    expect(programmingProblems(sctp, caps)).toEqual(["port assoc uses SCTP, which this node cannot NAT"]);
    const v6 = makeService("ns", "v6", { clusterIPs: ["fd00::1"], ipFamilies: ["IPv6"] });
    expect(programmingProblems(v6, caps)).toEqual(["its cluster IPs (fd00::1) are of no family this node serves (IPv4)"]);
  });

  it("finds nothing wrong with a Service that is not ours or is fine", () => {
    expect(programmingProblems(makeService("ns", "h", { headless: true, clusterIPs: [] }), caps)).toEqual([]);
    expect(programmingProblems(makeService("ns", "ok"), caps)).toEqual([]);
  });
});

describe("special addresses", () => {
  const svc = makeService("ns1", "lb", {
    type: "LoadBalancer",
    clusterIPs: ["172.30.0.9"],
    externalIPs: ["127.0.0.1", "192.168.99.9", "169.254.169.254"],
    loadBalancerIPs: ["0.0.0.0", "198.51.100.9", "::1"],
  });

  it("skips loopback, link-local and unspecified external and load-balancer IPs, keeping the rest", () => {
    const [v4] = servicePortsForFamily(svc, "IPv4");
    expect(v4?.externalIPs).toEqual(["192.168.99.9"]);
    expect(v4?.loadBalancerIPs).toEqual(["198.51.100.9"]);
    expect(servicePortsForFamily({ ...svc, clusterIPs: ["fd00::9"], ipFamilies: ["IPv6"] }, "IPv6")[0]?.loadBalancerIPs).toEqual([]);
  });

  it("names each skipped address and its field", () => {
    expect(programmingProblems(svc, { families: ["IPv4"], protocols: new Set(["TCP"]) })).toEqual([
      "spec.externalIPs[0] 127.0.0.1 is a loopback address, skipped",
      "spec.externalIPs[2] 169.254.169.254 is a link-local address, skipped",
      "status.loadBalancer.ingress 0.0.0.0 is the unspecified address, skipped",
      "status.loadBalancer.ingress ::1 is a loopback address, skipped",
    ]);
  });
});
