// What a connection experiences under the rendered rules, traced packet by packet: where it is
// DNATed, whether it is masqueraded, rejected or dropped. One case per behaviour a user relies
// on: ClusterIPs, node ports, external IPs and load balancers, Services without endpoints,
// traffic policies, session affinity, topology hints, IPv6 and hostile names.
import { describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../model/types.ts";
import type { Probe } from "../testing/render-harness.ts";
import { probe, renderAll, testExternalClient, testNodeIP, testNodeIPv6 } from "../testing/render-harness.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "../testing/model-builders.ts";
import type { RenderConfig } from "./render-config.ts";
import { detectLocalByBridge, detectLocalByInterfacePrefix } from "./render-config.ts";

const pod = "10.0.0.2";
const local = { nodeName: "node1" };
const remote = { nodeName: "node2" };

function rules(services: readonly Service[], slices: readonly EndpointSlice[], config: Partial<RenderConfig> = {}): (p: Probe) => ReturnType<typeof probe> {
  const text = renderAll(services, slices, config).text;
  return (p) => probe(text, p);
}

describe("ClusterIP", () => {
  const svc = makeService("ns1", "svc1", { clusterIPs: ["172.30.0.41"] });
  const eps = [makeSlice("ns1", "svc1", [makeEndpoint("10.180.0.1"), makeEndpoint("10.180.0.2"), makeEndpoint("10.180.0.3")])];
  const trace = rules([svc], eps);

  it("DNATs a pod's connection to an endpoint with equal shares, without masquerading", () => {
    const r = trace({ src: pod, dst: "172.30.0.41", port: 80 });
    expect(r.verdict).toBe("DNAT");
    expect(r.endpoints).toEqual(["10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80"]);
    for (const p of r.paths) expect(p.probability).toBeCloseTo(1 / 3, 6);
    expect(r.masqueraded).toBe(false);
  });

  it("masquerades a client outside the cluster CIDR", () => {
    const r = trace({ src: testExternalClient, dst: "172.30.0.41", port: 80 });
    expect(r.verdict).toBe("DNAT");
    expect(r.masqueraded).toBe(true);
  });

  it("serves the node itself, masqueraded since its address is not a pod's", () => {
    const r = trace({ src: testNodeIP, dst: "172.30.0.41", port: 80 });
    expect(r.chains[0]).toBe("nat/OUTPUT");
    expect(r.endpoints).toHaveLength(3);
    expect(r.masqueraded).toBe(true);
  });

  it("masquerades a pod reaching itself through its Service (hairpin)", () => {
    const r = trace({ src: "10.180.0.2", dst: "172.30.0.41", port: 80 });
    for (const p of r.paths) expect(p.masqueraded).toBe(p.destination === "10.180.0.2:80");
  });

  it("ignores other ports and protocols", () => {
    expect(trace({ src: pod, dst: "172.30.0.41", port: 81 }).verdict).toBe("NO_MATCH");
    expect(trace({ src: pod, dst: "172.30.0.41", port: 80, protocol: "UDP" }).verdict).toBe("NO_MATCH");
  });

  it("masquerades everything under --masquerade-all", () => {
    const all = rules([svc], eps, { masqueradeAll: true });
    expect(all({ src: pod, dst: "172.30.0.41", port: 80 }).masqueraded).toBe(true);
  });

  it("tells pod traffic by the interface it arrives on, under BridgeInterface and InterfaceNamePrefix", () => {
    const bridge = rules([svc], eps, { localDetector: detectLocalByBridge("cbr0") });
    expect(bridge({ src: pod, dst: "172.30.0.41", port: 80, inInterface: "cbr0" }).masqueraded).toBe(false);
    expect(bridge({ src: pod, dst: "172.30.0.41", port: 80, inInterface: "eth0" }).masqueraded).toBe(true);
    const veth = rules([svc], eps, { localDetector: detectLocalByInterfacePrefix("veth") });
    expect(veth({ src: testExternalClient, dst: "172.30.0.41", port: 80, inInterface: "veth12ab" }).masqueraded).toBe(false);
    expect(veth({ src: pod, dst: "172.30.0.41", port: 80, inInterface: "eth0" }).masqueraded).toBe(true);
    // From the node itself no interface is the one it arrived on: not a pod's traffic.
    expect(veth({ src: testNodeIP, dst: "172.30.0.41", port: 80 }).masqueraded).toBe(true);
  });

  it("does not masquerade off-cluster clients when no cluster CIDR is known", () => {
    const noCIDR = rules([svc], eps, { localDetector: null });
    expect(noCIDR({ src: testExternalClient, dst: "172.30.0.41", port: 80 }).masqueraded).toBe(false);
  });
});

describe("multi-port and protocols", () => {
  const svc = makeService("ns1", "dns", {
    clusterIPs: ["172.30.0.10"],
    ports: [makePort("dns", 53, "UDP"), makePort("dns-tcp", 53, "TCP"), makePort("sctp", 9999, "SCTP")],
  });
  const eps = [
    makeSlice("ns1", "dns", [makeEndpoint("10.180.0.10")], {
      ports: [
        { name: "dns", protocol: "UDP", port: 5353 },
        { name: "dns-tcp", protocol: "TCP", port: 5354 },
        { name: "sctp", protocol: "SCTP", port: 9998 },
      ],
    }),
  ];
  const trace = rules([svc], eps);

  it("sends the same port on TCP and UDP to each protocol's target port", () => {
    expect(trace({ src: pod, dst: "172.30.0.10", port: 53, protocol: "UDP" }).endpoints).toEqual(["10.180.0.10:5353"]);
    expect(trace({ src: pod, dst: "172.30.0.10", port: 53, protocol: "TCP" }).endpoints).toEqual(["10.180.0.10:5354"]);
  });

  it("handles SCTP", () => {
    expect(trace({ src: pod, dst: "172.30.0.10", port: 9999, protocol: "SCTP" }).endpoints).toEqual(["10.180.0.10:9998"]);
  });
});

describe("NodePort", () => {
  const svc = makeService("ns3", "svc3", { type: "NodePort", clusterIPs: ["172.30.0.43"], ports: [makePort("p80", 80, "TCP", 3003)] });
  const eps = [makeSlice("ns3", "svc3", [makeEndpoint("10.180.0.3", remote)])];

  it("DNATs an outside client on a node address, masqueraded under Cluster policy", () => {
    const r = rules([svc], eps)({ src: testExternalClient, dst: testNodeIP, port: 3003 });
    expect(r.endpoints).toEqual(["10.180.0.3:80"]);
    expect(r.masqueraded).toBe(true);
  });

  it("does not capture the port on addresses that are not the node's", () => {
    expect(rules([svc], eps)({ src: testExternalClient, dst: "192.168.0.9", port: 3003 }).verdict).toBe("NO_MATCH");
  });

  it("answers on localhost only when localhost node ports are on", () => {
    const on = rules([svc], eps, { localhostNodePorts: true });
    const off = rules([svc], eps, { localhostNodePorts: false });
    expect(on({ src: "127.0.0.1", dst: "127.0.0.1", port: 3003 }).verdict).toBe("DNAT");
    expect(off({ src: "127.0.0.1", dst: "127.0.0.1", port: 3003 }).verdict).toBe("NO_MATCH");
  });

  it("drops a neighbour's connection to whatever listens on the node's loopback (the localnet guard, CVE-2020-8558)", () => {
    const r = rules([svc], eps)({ src: testExternalClient, dst: "127.0.0.1", port: 9999 });
    expect(r.verdict).toBe("DROP");
    expect(r.paths[0]?.decidedBy).toContain('filter/KUBE-FIREWALL -m comment --comment "block incoming localnet connections"');
    // The node's own connection to its loopback passes.
    expect(rules([svc], eps)({ src: "127.0.0.1", dst: "127.0.0.1", port: 9999 }).verdict).toBe("NO_MATCH");
  });

  it("keeps node ports on 127.0.0.1 for the node itself: a neighbour's packet there is not DNATed and meets the guard", () => {
    const r = rules([svc], eps)({ src: testExternalClient, dst: "127.0.0.1", port: 3003 });
    expect(r.verdict).toBe("DROP");
    expect(r.endpoints).toEqual([]);
    expect(r.chains).toContain("filter/KUBE-FIREWALL");
  });

  it("writes no guard where no node port listens on loopback: IPv6, or localhost node ports off", () => {
    for (const config of [{ family: "IPv6" as const, nodeIPs: [testNodeIPv6] }, { localhostNodePorts: false }]) {
      const text = renderAll([svc], eps, config).text;
      expect(text).not.toContain("KUBE-FIREWALL");
      expect(text).not.toContain("127.0.0.0/8 -j RETURN");
    }
  });

  it("drops forwarded INVALID packets unless the node's conntrack is TCP-liberal, as kube-proxy decides", () => {
    const invalidDrop = "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP";
    expect(renderAll([svc], eps).text).toContain(invalidDrop);
    expect(renderAll([svc], eps, { dropInvalid: false }).text).not.toContain(invalidDrop);
  });

  it("answers only on the addresses --nodeport-addresses selects", () => {
    const text = renderAll([svc], eps, { nodePortAddresses: ["192.168.0.0/24"], nodeIPs: [testNodeIP, "10.99.0.2"] }).text;
    const locals = [testNodeIP, "10.99.0.2"];
    expect(probe(text, { src: testExternalClient, dst: testNodeIP, port: 3003 }, locals).verdict).toBe("DNAT");
    expect(probe(text, { src: testExternalClient, dst: "10.99.0.2", port: 3003 }, locals).verdict).toBe("NO_MATCH");
  });
});

describe("external IPs and load balancers", () => {
  const lb = makeService("ns5", "svc5", {
    type: "LoadBalancer",
    clusterIPs: ["172.30.0.45"],
    externalIPs: ["192.168.99.45"],
    loadBalancerIPs: ["5.6.7.8"],
    loadBalancerSourceRanges: ["203.0.113.0/25"],
    ports: [makePort("p80", 80, "TCP", 3002)],
  });
  const eps = [makeSlice("ns5", "svc5", [makeEndpoint("10.180.0.3", remote)])];
  const trace = rules([lb], eps);

  it("DNATs an external IP, masqueraded", () => {
    const r = trace({ src: testExternalClient, dst: "192.168.99.45", port: 80 });
    expect(r.endpoints).toEqual(["10.180.0.3:80"]);
    expect(r.masqueraded).toBe(true);
  });

  it("lets an allowed source reach the LB IP", () => {
    expect(trace({ src: "203.0.113.100", dst: "5.6.7.8", port: 80 }).endpoints).toEqual(["10.180.0.3:80"]);
  });

  it("drops a source outside loadBalancerSourceRanges", () => {
    const r = trace({ src: "203.0.113.200", dst: "5.6.7.8", port: 80 });
    expect(r.verdict).toBe("DROP");
    expect(r.paths[0]?.decidedBy).toContain("KUBE-PROXY-FIREWALL");
  });

  it("does not apply source ranges to the node port", () => {
    expect(trace({ src: "203.0.113.200", dst: testNodeIP, port: 3002 }).verdict).toBe("DNAT");
  });

  it("lets the node reach its own LB IP when a source range covers the node", () => {
    const nodeAllowed = makeService("ns5", "svc5", { ...lb, loadBalancerSourceRanges: ["192.168.0.0/24"] });
    const text = renderAll([nodeAllowed], eps).text;
    // A VIP bound on the node: the request loops back with the LB IP as its source.
    const locals = [testNodeIP, "5.6.7.8"];
    expect(probe(text, { src: "5.6.7.8", dst: "5.6.7.8", port: 80 }, locals).verdict).toBe("DNAT");
    expect(probe(text, { src: testNodeIP, dst: "5.6.7.8", port: 80 }, locals).verdict).toBe("DNAT");
  });
});

describe("no endpoints", () => {
  const svc = makeService("ns1", "svc1", {
    type: "LoadBalancer",
    clusterIPs: ["172.30.0.41"],
    externalIPs: ["192.168.99.11"],
    loadBalancerIPs: ["1.2.3.4"],
    ports: [makePort("p80", 80, "TCP", 3001)],
  });
  const trace = rules([svc], []);

  it.each([
    ["pod to cluster IP", pod, "172.30.0.41", 80],
    ["outside to external IP", testExternalClient, "192.168.99.11", 80],
    ["pod to node port", pod, testNodeIP, 3001],
    ["outside to node port", testExternalClient, testNodeIP, 3001],
    ["pod to LB IP", pod, "1.2.3.4", 80],
    ["outside to LB IP", testExternalClient, "1.2.3.4", 80],
    ["node to cluster IP", testNodeIP, "172.30.0.41", 80],
  ])("REJECTs %s", (_name, src, dst, port) => {
    expect(trace({ src, dst, port }).verdict).toBe("REJECT");
  });

  it("REJECTs when the only endpoints are neither ready nor serving", () => {
    const eps = [makeSlice("ns1", "svc1", [makeEndpoint("10.180.0.1", { ready: false, serving: false })])];
    expect(rules([svc], eps)({ src: pod, dst: "172.30.0.41", port: 80 }).verdict).toBe("REJECT");
  });

  it("keeps serving through terminating endpoints when none is ready", () => {
    const eps = [makeSlice("ns1", "svc1", [makeEndpoint("10.180.0.1", { ready: false, serving: true, terminating: true })])];
    expect(rules([svc], eps)({ src: pod, dst: "172.30.0.41", port: 80 }).endpoints).toEqual(["10.180.0.1:80"]);
  });
});

describe("externalTrafficPolicy Local", () => {
  const svc = makeService("ns2", "svc2", {
    type: "LoadBalancer",
    externalTrafficPolicy: "Local",
    clusterIPs: ["172.30.0.42"],
    externalIPs: ["192.168.99.22"],
    loadBalancerIPs: ["1.2.3.4"],
    healthCheckNodePort: 30000,
    ports: [makePort("p80", 80, "TCP", 3001)],
  });
  const withLocal = rules([svc], [makeSlice("ns2", "svc2", [makeEndpoint("10.180.0.1", local), makeEndpoint("10.180.0.2", remote)])]);
  const noLocal = rules([svc], [makeSlice("ns2", "svc2", [makeEndpoint("10.180.0.2", remote)])]);

  it.each([
    ["node port", testNodeIP, 3001],
    ["external IP", "192.168.99.22", 80],
    ["LB IP", "1.2.3.4", 80],
  ])("sends outside traffic on the %s to local endpoints only, keeping the client's address", (_n, dst, port) => {
    const r = withLocal({ src: testExternalClient, dst, port });
    expect(r.endpoints).toEqual(["10.180.0.1:80"]);
    expect(r.masqueraded).toBe(false);
  });

  it.each([
    ["node port", testNodeIP, 3001],
    ["external IP", "192.168.99.22", 80],
    ["LB IP", "1.2.3.4", 80],
  ])("DROPs outside traffic on the %s when no endpoint is local", (_n, dst, port) => {
    const r = noLocal({ src: testExternalClient, dst, port });
    expect(r.verdict).toBe("DROP");
    expect(r.paths[0]?.decidedBy).toContain("has no local endpoints");
  });

  it("short-circuits pod traffic to every endpoint, unmasqueraded", () => {
    const r = noLocal({ src: pod, dst: "1.2.3.4", port: 80 });
    expect(r.endpoints).toEqual(["10.180.0.2:80"]);
    expect(r.masqueraded).toBe(false);
    expect(withLocal({ src: pod, dst: testNodeIP, port: 3001 }).endpoints).toEqual(["10.180.0.1:80", "10.180.0.2:80"]);
  });

  it("routes the node's own traffic to every endpoint, masqueraded", () => {
    const r = noLocal({ src: testNodeIP, dst: testNodeIP, port: 3001 });
    expect(r.endpoints).toEqual(["10.180.0.2:80"]);
    expect(r.masqueraded).toBe(true);
  });

  it("leaves the cluster IP on Cluster policy", () => {
    expect(noLocal({ src: pod, dst: "172.30.0.42", port: 80 }).endpoints).toEqual(["10.180.0.2:80"]);
  });

  it("opens the health-check node port", () => {
    const r = noLocal({ src: testExternalClient, dst: testNodeIP, port: 30000 });
    expect(r.verdict).toBe("ACCEPT");
  });
});

describe("internalTrafficPolicy Local", () => {
  const svc = makeService("ns1", "svc1", { clusterIPs: ["172.30.0.41"], internalTrafficPolicy: "Local" });

  it("sends cluster IP traffic to this node's endpoints only", () => {
    const trace = rules([svc], [makeSlice("ns1", "svc1", [makeEndpoint("10.180.0.1", local), makeEndpoint("10.180.0.2", remote)])]);
    expect(trace({ src: pod, dst: "172.30.0.41", port: 80 }).endpoints).toEqual(["10.180.0.1:80"]);
  });

  it("DROPs cluster IP traffic when no endpoint is local", () => {
    const trace = rules([svc], [makeSlice("ns1", "svc1", [makeEndpoint("10.180.0.2", remote)])]);
    const r = trace({ src: pod, dst: "172.30.0.41", port: 80 });
    expect(r.verdict).toBe("DROP");
  });
});

describe("endpoints on other nodes", () => {
  const svc = makeService("ns1", "spread", { clusterIPs: ["172.30.0.45"] });
  const slices = [makeSlice("ns1", "spread", [makeEndpoint("10.180.0.1", local), makeEndpoint("10.180.1.1", remote), makeEndpoint("10.180.2.1", remote)])];
  const text = renderAll([svc], slices).text;
  const chainsDeclared = (t: string): number => t.split("\n").filter((l) => l.startsWith(":KUBE-SEP-")).length;

  it("are DNATed from the policy chain; only the local endpoint has a KUBE-SEP chain", () => {
    expect(chainsDeclared(text)).toBe(1);
    expect(text).toMatch(/^-A KUBE-SVC-\S+ .*-m tcp -p tcp -j DNAT --to-destination 10\.180\.1\.1:80$/m);
    const r = probe(text, { src: pod, dst: "172.30.0.45", port: 80 });
    expect(r.endpoints).toEqual(["10.180.0.1:80", "10.180.1.1:80", "10.180.2.1:80"]);
    for (const p of r.paths) expect(p.probability).toBeCloseTo(1 / 3, 6);
    expect(r.masqueraded).toBe(false);
  });

  it("still masquerade a local pod reaching itself (hairpin)", () => {
    const r = probe(text, { src: "10.180.0.1", dst: "172.30.0.45", port: 80 });
    for (const p of r.paths) expect(p.masqueraded).toBe(p.destination === "10.180.0.1:80");
  });

  it("keep their chains under session affinity, under externalTrafficPolicy Local, and when their node is unknown", () => {
    const sticky = makeService("ns1", "spread", { clusterIPs: ["172.30.0.45"], sessionAffinity: { kind: "ClientIP", timeoutSeconds: 60 } });
    expect(chainsDeclared(renderAll([sticky], slices).text)).toBe(3);
    const etpLocal = makeService("ns1", "spread", { type: "NodePort", clusterIPs: ["172.30.0.45"], externalTrafficPolicy: "Local", ports: [makePort("p80", 80, "TCP", 30045)] });
    const etpSlices = [makeSlice("ns1", "spread", [makeEndpoint("10.180.0.1", local), makeEndpoint("10.180.1.1", remote)])];
    expect(chainsDeclared(renderAll([etpLocal], etpSlices).text)).toBe(2);
    const unknown = [makeSlice("ns1", "spread", [makeEndpoint("10.180.1.1"), makeEndpoint("10.180.2.1")])];
    expect(chainsDeclared(renderAll([svc], unknown).text)).toBe(2);
  });
});

describe("session affinity ClientIP", () => {
  const svc = makeService("ns1", "sticky", { clusterIPs: ["172.30.0.50"], sessionAffinity: { kind: "ClientIP", timeoutSeconds: 300 } });
  const text = renderAll([svc], [makeSlice("ns1", "sticky", [makeEndpoint("10.180.0.1"), makeEndpoint("10.180.0.2")])]).text;

  it("records the client on its first connection and sends it back to the same endpoint", () => {
    const first = probe(text, { src: pod, dst: "172.30.0.50", port: 80 });
    expect(first.endpoints).toEqual(["10.180.0.1:80", "10.180.0.2:80"]);
    const chosen = first.paths.find((p) => p.destination === "10.180.0.2:80");
    const list = chosen?.recentSet[0] ?? "";
    expect(list).toMatch(/^KUBE-SEP-/);
    expect(text).toContain(`--name ${list} --rcheck --seconds 300 --reap`);

    const again = probe(text, { src: pod, dst: "172.30.0.50", port: 80, recent: new Map([[list, new Set([pod])]]) });
    expect(again.endpoints).toEqual(["10.180.0.2:80"]);
    const otherClient = probe(text, { src: "10.0.0.3", dst: "172.30.0.50", port: 80, recent: new Map([[list, new Set([pod])]]) });
    expect(otherClient.endpoints).toHaveLength(2);
  });
});

describe("topology", () => {
  const svc = makeService("ns1", "zonal", { clusterIPs: ["172.30.0.80"], trafficDistribution: "PreferClose" });
  const slices = [
    makeSlice("ns1", "zonal", [
      makeEndpoint("10.180.0.1", { zone: "zone-a", hints: { forZones: ["zone-a"], forNodes: [] } }),
      makeEndpoint("10.180.0.2", { zone: "zone-b", hints: { forZones: ["zone-b"], forNodes: [] } }),
    ]),
  ];

  it("keeps traffic in the node's zone when every endpoint has hints", () => {
    expect(rules([svc], slices)({ src: pod, dst: "172.30.0.80", port: 80 }).endpoints).toEqual(["10.180.0.1:80"]);
  });
});

describe("IPv6", () => {
  const svc = makeService("ns1", "v6", {
    type: "NodePort",
    clusterIPs: ["fd00:30::1"],
    ipFamilies: ["IPv6"],
    ports: [makePort("p80", 80, "TCP", 30080)],
  });
  const slices = [makeSlice("ns1", "v6", [makeEndpoint("fd00:10::5")], { addressType: "IPv6" })];
  const text = renderAll([svc], slices, { family: "IPv6" }).text;

  it("DNATs to a bracketed IPv6 endpoint", () => {
    const r = probe(text, { src: "fd00:10::9", dst: "fd00:30::1", port: 80 }, [testNodeIPv6]);
    expect(r.endpoints).toEqual(["[fd00:10::5]:80"]);
    expect(r.masqueraded).toBe(false);
  });

  it("serves the node port on the node's IPv6 address but not on ::1", () => {
    const locals = [testNodeIPv6, "::1"];
    expect(probe(text, { src: "2001:db8:ff::1", dst: testNodeIPv6, port: 30080 }, locals).verdict).toBe("DNAT");
    expect(probe(text, { src: "::1", dst: "::1", port: 30080 }, locals).verdict).toBe("NO_MATCH");
  });
});

describe("hostile names", () => {
  it("keeps a comment quoted whatever the name holds", () => {
    const svc = makeService('ns"; -j ACCEPT', 'x" -A INPUT -j ACCEPT #', { clusterIPs: ["172.30.0.90"] });
    const text = renderAll([svc], []).text;
    const line = text.split("\n").find((l) => l.includes("172.30.0.90")) ?? "";
    expect(line).toMatch(/^-A KUBE-SERVICES -m comment --comment "[^"]*" -m tcp -p tcp -d 172\.30\.0\.90 --dport 80 -j REJECT$/);
    expect(probe(text, { src: pod, dst: "172.30.0.90", port: 80 }).verdict).toBe("REJECT");
  });
});
