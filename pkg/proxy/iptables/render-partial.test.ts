// Partial sync, end to end through the real proxier and its injected parts (testing/
// proxier-harness.ts): watch events into the change trackers, the drained keys into the
// node-local state, a partial render applied with --noflush on top of the previous rules. The
// kernel must then hold what a fresh proxier's full sync of the same objects writes, rule for rule.
import { describe, expect, it } from "vitest";
import type { Registry } from "prom-client";
import { keyOf, slicesByService } from "../../model/key.ts";
import type { EndpointSlice, Service } from "../../model/types.ts";
import type { NodeContext } from "../proxy-state.ts";
import { buildProxyState } from "../proxy-state.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "../testing/model-builders.ts";
import { proxierOnFakeKernel } from "../testing/proxier-harness.ts";
import { testConfig, testNodeName } from "../testing/render-harness.ts";
import { multiProtocolAffinity, overall } from "../testing/scenarios.ts";
import { KUBE_FIREWALL, KUBE_PROXY_CANARY } from "./chain-names.ts";
import { checkJumps } from "../../../test/support/jump-check.ts";
import { serviceChainsIn } from "./kernel-checks.ts";
import { renderIptables } from "./render.ts";
import { FLAT_LIMIT } from "./service-dispatch.ts";
import { filterTopChains, natTopChains } from "./render-static.ts";

const ctx: NodeContext = { family: "IPv4", node: { name: testNodeName, zone: "" } };
const config = testConfig();

/** The real proxier on the in-memory kernel, and the objects it has been told about. */
function proxyOf(services: readonly Service[], slices: readonly EndpointSlice[]) {
  const harness = proxierOnFakeKernel();
  const objects = { services: new Map<string, Service>(), slices: new Map<string, EndpointSlice>() };
  const proxy = {
    ...harness,
    objects,
    service(previous: Service | null, current: Service | null): void {
      harness.proxier.onServiceEvent(previous, current);
      if (previous !== null) objects.services.delete(keyOf(previous));
      if (current !== null) objects.services.set(keyOf(current), current);
    },
    slice(previous: EndpointSlice | null, current: EndpointSlice | null): void {
      harness.proxier.onSliceEvent(previous, current);
      if (previous !== null) objects.slices.delete(keyOf(previous));
      if (current !== null) objects.slices.set(keyOf(current), current);
    },
    /** The text of the last restore. */
    lastText(): string {
      return harness.iptables.restores.at(-1) ?? "";
    },
    /** The per-Service nat chains the kernel holds. */
    natChains(): Set<string> {
      return serviceChainsIn(harness.iptables.kernel.save(["nat"]).split("\n"));
    },
  };
  for (const s of services) proxy.service(null, s);
  for (const s of slices) proxy.slice(null, s);
  return proxy;
}

type Proxy = ReturnType<typeof proxyOf>;

/** What a fresh proxier's first, full sync of the same objects leaves in the kernel. */
async function fullSyncOf(proxy: Proxy): Promise<string> {
  const fresh = proxyOf([...proxy.objects.services.values()], [...proxy.objects.slices.values()]);
  await fresh.proxier.sync();
  return fresh.iptables.kernel.save();
}

/** The chains a restore text deletes, in its order. */
function deletedChains(text: string): string[] {
  return text.split("\n").flatMap((line) => (line.startsWith("-X ") ? [line.slice(3)] : []));
}

/** kube-proxy's sync_proxy_rules_iptables_total per table: every rule of the desired state. */
async function ruleTotals(registry: Registry): Promise<unknown> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "kubeproxy_sync_proxy_rules_iptables_total");
  return metric?.values;
}

const findService = (name: string): Service => {
  const svc = overall.services.find((s) => s.name === name);
  if (svc === undefined) throw new Error(name);
  return svc;
};
const findSlice = (name: string): EndpointSlice => {
  const slice = overall.slices.find((s) => s.serviceName === name);
  if (slice === undefined) throw new Error(name);
  return slice;
};

describe("partial sync", () => {
  it("rewrites only changed Services and converges on the full sync", async () => {
    const proxy = proxyOf([...overall.services, ...multiProtocolAffinity.services], [...overall.slices, ...multiProtocolAffinity.slices]);
    const first = await proxy.proxier.sync();
    expect(first).toMatchObject({ kind: "full", writtenServices: 9 });
    expect(proxy.iptables.kernel.save()).toBe(await fullSyncOf(proxy));

    // An endpoint leaves svc4, svc1 is deleted, svc7 appears, svc2 gains a local endpoint,
    // and svc5 drops its source ranges (its KUBE-FW chain goes).
    const svc4 = findSlice("svc4");
    proxy.slice(svc4, { ...svc4, endpoints: svc4.endpoints.slice(1) });
    proxy.service(findService("svc1"), null);
    proxy.slice(findSlice("svc1"), null);
    const svc7 = makeService("ns7", "svc7", { clusterIPs: ["172.30.0.47"], ports: [makePort("p80", 80), makePort("p443", 443)] });
    proxy.service(null, svc7);
    proxy.slice(null, makeSlice("ns7", "svc7", [makeEndpoint("10.180.0.7")], {
      ports: [
        { name: "p80", protocol: "TCP", port: 80 },
        { name: "p443", protocol: "TCP", port: 443 },
      ],
    }));
    const svc2 = findSlice("svc2");
    proxy.slice(svc2, { ...svc2, endpoints: [...svc2.endpoints, makeEndpoint("10.180.0.22", { nodeName: testNodeName })] });
    const svc5 = findService("svc5");
    proxy.service(svc5, { ...svc5, loadBalancerSourceRanges: [] });

    const second = await proxy.proxier.sync();
    const text = proxy.lastText();
    expect(second).toMatchObject({ kind: "partial", writtenServices: 4, deletedChains: 4 });
    expect(deletedChains(text)).toEqual([
      "KUBE-FW-NUKIZ6OKUXPJNT4C",
      "KUBE-SEP-SXIVWICOYRO3J4NJ",
      "KUBE-SEP-UKSFD7AGPMPPLUHC",
      "KUBE-SVC-XPGD46QRK7WJZT7O",
    ]);
    // svc3 did not change: its chains are left alone.
    expect(text).not.toContain(":KUBE-SVC-X27LE4BHSL4DOUIK");
    expect(text).toContain("-j KUBE-SVC-X27LE4BHSL4DOUIK");
    expect(text).toContain(":KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]");
    expect(proxy.iptables.kernel.save()).toBe(await fullSyncOf(proxy));
    // Without the built-in jumps, the top-level chains are entered from outside this text.
    const entered = new Set<string>([KUBE_PROXY_CANARY, KUBE_FIREWALL, ...filterTopChains, ...natTopChains]);
    expect(checkJumps(text, { allowUndeclared: proxy.natChains(), allowUnused: entered })).toEqual([]);
  });

  it("writes no Service chain when nothing changed, and counts every rule anyway", async () => {
    const proxy = proxyOf(overall.services, overall.slices);
    await proxy.proxier.sync();
    const counted = await ruleTotals(proxy.registry);
    const again = await proxy.proxier.sync();
    expect(again).toMatchObject({ kind: "partial", writtenServices: 0 });
    expect(proxy.lastText()).not.toMatch(/^:KUBE-(SVC|SEP|EXT|FW|SVL)-/m);
    expect(await ruleTotals(proxy.registry)).toEqual(counted);
    expect(proxy.iptables.kernel.save()).toBe(await fullSyncOf(proxy));
  });

  it("skips Services whose node-local state did not move", async () => {
    const svc = makeService("ns", "local", { internalTrafficPolicy: "Local", clusterIPs: ["172.30.0.99"] });
    const slice = makeSlice("ns", "local", [makeEndpoint("10.180.0.1", { nodeName: testNodeName }), makeEndpoint("10.180.1.1", { nodeName: "node2" })]);
    const proxy = proxyOf([svc], [slice]);
    await proxy.proxier.sync();
    // A remote endpoint stops being ready: this node only uses its local one.
    proxy.slice(slice, { ...slice, endpoints: [slice.endpoints[0] ?? makeEndpoint("x"), makeEndpoint("10.180.1.1", { nodeName: "node2", ready: false })] });
    expect((await proxy.proxier.sync()).writtenServices).toBe(0);
  });

  it("writes the canary in a full sync only, so a partial one never hides a flush; a full sync repairs it", async () => {
    const proxy = proxyOf(overall.services, overall.slices);
    await proxy.proxier.sync();
    expect(proxy.iptables.kernel.hasChain("nat", KUBE_PROXY_CANARY)).toBe(true);
    expect(proxy.iptables.kernel.hasChain("filter", KUBE_PROXY_CANARY)).toBe(true);
    await proxy.proxier.sync();
    expect(proxy.lastText()).not.toContain(KUBE_PROXY_CANARY);
    proxy.iptables.kernel.flushTable("nat");
    expect(proxy.iptables.kernel.hasChain("nat", KUBE_PROXY_CANARY)).toBe(false);
    // The canary check sees it gone: a full sync follows.
    expect(await proxy.proxier.checkCanary()).toBe(true);
    expect((await proxy.proxier.sync()).kind).toBe("full");
    expect(proxy.iptables.kernel.save()).toBe(await fullSyncOf(proxy));
  });

  it("past FLAT_LIMIT writes only the KUBE-DST chains whose rules changed, and converges on the full sync", async () => {
    const many = Array.from({ length: FLAT_LIMIT + 16 }, (_, i) => ({
      service: makeService("dst", `svc-${i}`, { clusterIPs: [`172.30.${i >> 4}.${(i & 15) + 1}`] }),
      slice: makeSlice("dst", `svc-${i}`, [makeEndpoint(`10.180.1.${i + 1}`)]),
    }));
    const proxy = proxyOf(many.map((m) => m.service), many.map((m) => m.slice));
    await proxy.proxier.sync();
    const dispatchChainsIn = (text: string): string[] => text.split("\n").flatMap((l) => (/^:KUBE-DST-/.test(l) ? [l.split(" ")[0]?.slice(1) ?? ""] : []));
    const all = dispatchChainsIn(proxy.lastText());
    expect(all.length).toBeGreaterThan(1);
    const counted = await ruleTotals(proxy.registry);

    // An endpoint moves: that Service's own chains change, and no KUBE-DST chain does.
    const moved = many[3]?.slice ?? makeSlice("x", "x", []);
    proxy.slice(moved, { ...moved, endpoints: [makeEndpoint("10.180.2.4")] });
    expect(await proxy.proxier.sync()).toMatchObject({ kind: "partial", writtenServices: 1 });
    expect(dispatchChainsIn(proxy.lastText())).toEqual([]);
    expect(proxy.lastText()).toContain(`-j ${all[0] ?? ""}`);
    expect(await ruleTotals(proxy.registry)).toEqual(counted);
    expect(proxy.iptables.kernel.save()).toBe(await fullSyncOf(proxy));

    // A new Service inside the first prefix: only that prefix's chain is written again.
    proxy.service(null, makeService("dst", "added", { clusterIPs: ["172.30.0.100"] }));
    proxy.slice(null, makeSlice("dst", "added", [makeEndpoint("10.180.3.1")]));
    await proxy.proxier.sync();
    expect(dispatchChainsIn(proxy.lastText())).toHaveLength(1);
    expect(proxy.iptables.kernel.save()).toBe(await fullSyncOf(proxy));

    // A full render writes every one of them, whatever it is told the kernel holds.
    const slices = slicesByService([...proxy.objects.slices.values()]);
    const state = buildProxyState([...proxy.objects.services.values()], (k) => slices.get(k) ?? [], ctx);
    const first = renderIptables({ state, config, changed: null });
    const full = renderIptables({ state, config, changed: null, dispatchChains: first.dispatchChains });
    expect(dispatchChainsIn(full.text).sort()).toEqual([...full.dispatchChains.keys()].sort());
  });

  it("fails to apply, as iptables-restore would, when a changed Service is left out", async () => {
    const proxy = proxyOf(overall.services, overall.slices);
    await proxy.proxier.sync();
    const slices = slicesByService([...overall.slices, makeSlice("ns8", "new", [makeEndpoint("10.180.0.8")])]);
    const state = buildProxyState([...overall.services, makeService("ns8", "new", { clusterIPs: ["172.30.0.48"] })], (key) => slices.get(key) ?? [], ctx);
    const wrong = renderIptables({ state, config, changed: new Set(), existingChains: proxy.natChains() });
    expect(() => proxy.iptables.kernel.restore(wrong.text, { noflush: true })).toThrow(/Couldn't load target/);
  });
});

describe("stale chains on a full sync", () => {
  it("deletes our unused chains and never a chain that is not ours", () => {
    const state = buildProxyState(overall.services, () => [], ctx);
    const result = renderIptables({
      state,
      config,
      changed: null,
      existingChains: new Set(["KUBE-SEP-AAAAAAAAAAAAAAAA", "KUBE-SVC-XPGD46QRK7WJZT7O", "DOCKER", "KUBE-FIREWALL", "KUBE-SERVICES"]),
    });
    expect(result.deletedChains).toEqual(["KUBE-SEP-AAAAAAAAAAAAAAAA", "KUBE-SVC-XPGD46QRK7WJZT7O"]);
    expect(result.text).toContain("-X KUBE-SEP-AAAAAAAAAAAAAAAA\n");
    expect(result.text).not.toContain("DOCKER");
  });
});
