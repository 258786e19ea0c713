import { describe, expect, it } from "vitest";
import { parseIP } from "../../model/ip.ts";
import type { EndpointSlice, IPFamily, Service } from "../../model/types.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "../testing/model-builders.ts";
import { probe, renderAll, testExternalClient, testNodeIP } from "../testing/render-harness.ts";
import { checkJumps } from "../../../test/support/jump-check.ts";
import { isServiceChainName, KUBE_PROXY_CANARY, KUBE_SERVICES } from "./chain-names.ts";
import { loadRules, tracePacket } from "./packet-tracer.ts";
import { dispatchPrefixLength, FLAT_LIMIT } from "./service-dispatch.ts";

function addresses(texts: readonly string[]): bigint[] {
  return texts.map((t) => {
    const ip = parseIP(t);
    if (ip === null) throw new Error(t);
    return ip.value;
  });
}

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Distinct prefixes of `length` bits among the addresses. */
function prefixCount(values: readonly bigint[], length: number, bits: number): number {
  const host = BigInt(bits - length);
  return new Set(values.map((v) => v >> host)).size;
}

/** A little deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

describe("dispatchPrefixLength", () => {
  it("splits 30,000 consecutive cluster IPs of a /16 into its /24s", () => {
    const base = (10 << 24) | (96 << 16);
    const ips = Array.from({ length: 30_000 }, (_, i) => ipv4(base + 16 + i));
    expect(dispatchPrefixLength(addresses(ips), "IPv4")).toBe(24);
  });

  it("picks the longest prefix with at most √n prefixes, for random sets of either family", () => {
    const next = lcg(7);
    for (const [family, bits] of [["IPv4", 32], ["IPv6", 128]] as const) {
      for (const n of [2, 3, 65, 500, 4_000]) {
        const values = new Set<bigint>();
        // Addresses in a /12, as kubeadm's 10.96.0.0/12 Service CIDR, or in fd00:30::/108.
        const top = family === "IPv4" ? 0x0a6n << 20n : 0xfd000030n << 96n;
        while (values.size < n) values.add(top | BigInt(next() & 0xfffff));
        const length = dispatchPrefixLength([...values], family);
        const limit = Math.ceil(Math.sqrt(n));
        expect(prefixCount([...values], length, bits)).toBeLessThanOrEqual(limit);
        if (length < bits) expect(prefixCount([...values], length + 1, bits)).toBeGreaterThan(limit);
      }
    }
  });

  it("counts an address once however many rules match it", () => {
    const one = addresses(["10.96.0.10", "10.96.0.10", "10.96.0.10"]);
    expect(prefixCount(one, dispatchPrefixLength(one, "IPv4"), 32)).toBe(1);
  });
});

/** n Services with one endpoint each, cluster IPs from 10.96.0.16 on, and one port each. */
function cluster(n: number, family: IPFamily = "IPv4"): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const clusterIP = family === "IPv4" ? ipv4(((10 << 24) | (96 << 16)) + 16 + i) : `fd00:30::${(16 + i).toString(16)}`;
    const endpoint = family === "IPv4" ? ipv4(((10 << 24) | (180 << 16)) + i) : `fd00:10::${(1 + i).toString(16)}`;
    services.push(makeService(`ns${Math.floor(i / 100)}`, `svc${i}`, { clusterIPs: [clusterIP], ipFamilies: [family] }));
    slices.push(makeSlice(`ns${Math.floor(i / 100)}`, `svc${i}`, [makeEndpoint(endpoint)], { addressType: family }));
  }
  return { services, slices };
}

function rulesOf(text: string, chain: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`-A ${chain} `));
}

describe("KUBE-SERVICES split by destination prefix", () => {
  it(`stays one flat chain up to ${FLAT_LIMIT} rules`, () => {
    const { services, slices } = cluster(FLAT_LIMIT);
    const { text, natChains } = renderAll(services, slices);
    expect(text).not.toContain("KUBE-DST-");
    expect([...natChains].some((c) => c.startsWith("KUBE-DST-"))).toBe(false);
    // One rule per Service, then the node ports tail.
    expect(rulesOf(text, KUBE_SERVICES)).toHaveLength(FLAT_LIMIT + 1);
  });

  it("past it, jumps by prefix, and every Service's connections still reach its endpoint", () => {
    const n = 1_000;
    const { services, slices } = cluster(n);
    services.push(makeService("ext", "web", { clusterIPs: ["10.96.200.1"], externalIPs: ["203.0.113.77"], ports: [makePort("p80", 80, "TCP", 30080)] }));
    slices.push(makeSlice("ext", "web", [makeEndpoint("10.181.0.1")]));
    const { text, natChains } = renderAll(services, slices, {}, { includeBuiltinJumps: true });
    expect(checkJumps(text, { allowUnused: new Set([KUBE_PROXY_CANARY]) })).toEqual([]);

    const top = rulesOf(text, KUBE_SERVICES);
    const jumps = top.filter((l) => l.includes("-j KUBE-DST-"));
    // About √n jumps, each to a chain of ours that a later sync may delete, and the node ports tail last.
    expect(jumps.length).toBeGreaterThan(1);
    expect(jumps.length).toBeLessThanOrEqual(Math.ceil(Math.sqrt(n + 2)));
    expect(top).toHaveLength(jumps.length + 1);
    expect(top.at(-1)).toContain("-j KUBE-NODEPORTS");
    const dst = [...natChains].filter((c) => c.startsWith("KUBE-DST-"));
    expect(dst).toHaveLength(jumps.length);
    for (const chain of dst) expect(isServiceChainName(chain)).toBe(true);
    // Every Service's rule is written once, in the chain of its prefix.
    const serviceRules = text.split("\n").filter((l) => l.startsWith("-A KUBE-DST-"));
    expect(serviceRules).toHaveLength(n + 2);

    const state = loadRules(text);
    const local = (ip: string): boolean => ip === testNodeIP;
    for (let i = 0; i < n; i += 37) {
      const r = tracePacket(state, { src: "10.0.1.5", dst: ipv4(((10 << 24) | (96 << 16)) + 16 + i), dport: 80, protocol: "TCP", isLocalAddress: local });
      expect(r.endpoints).toEqual([`${ipv4(((10 << 24) | (180 << 16)) + i)}:80`]);
    }
    // The external IP has a prefix of its own; the node port still comes after every jump.
    expect(probe(text, { src: testExternalClient, dst: "203.0.113.77", port: 80 }).endpoints).toEqual(["10.181.0.1:80"]);
    expect(probe(text, { src: testExternalClient, dst: testNodeIP, port: 30080 }).endpoints).toEqual(["10.181.0.1:80"]);
    // An address no Service has, in a prefix that has Services, or not: no DNAT.
    expect(probe(text, { src: "10.0.1.5", dst: "10.96.0.5", port: 80 }).verdict).not.toBe("DNAT");
    expect(probe(text, { src: "10.0.1.5", dst: "10.180.0.9", port: 80 }).verdict).not.toBe("DNAT");
  });

  it("splits IPv6 Services too", () => {
    const { services, slices } = cluster(300, "IPv6");
    const { text } = renderAll(services, slices, { family: "IPv6" }, { includeBuiltinJumps: true });
    expect(checkJumps(text, { allowUnused: new Set([KUBE_PROXY_CANARY]) })).toEqual([]);
    expect(rulesOf(text, KUBE_SERVICES).filter((l) => l.includes("-j KUBE-DST-")).length).toBeGreaterThan(1);
    const r = probe(text, { src: "fd00:10::99", dst: "fd00:30::120", port: 80 }, ["2001:db8::2"]);
    expect(r.endpoints).toEqual([`[fd00:10::${(0x120 - 16 + 1).toString(16)}]:80`]);
  });

  it("deletes the prefix chains once the Services fit in one flat chain again", () => {
    const big = cluster(200);
    const first = renderAll(big.services, big.slices);
    const small = cluster(10);
    const second = renderAll(small.services, small.slices, {}, { existingChains: first.natChains });
    const dst = [...first.natChains].filter((c) => c.startsWith("KUBE-DST-")).sort();
    expect(dst.length).toBeGreaterThan(1);
    expect(second.deletedChains.filter((c) => c.startsWith("KUBE-DST-"))).toEqual(dst);
    for (const chain of dst) expect(second.text).toContain(`-X ${chain}\n`);
  });
});
