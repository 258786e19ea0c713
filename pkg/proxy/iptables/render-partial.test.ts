// Partial sync, end to end through the pure pipeline: watch events into the change trackers, the
// drained keys into the node-local state, a partial render applied with --noflush on top of the
// previous rules. The result must equal a fresh full sync of the new state, rule for rule.
import { describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../model/types.ts";
import { EndpointSliceChangeTracker, ServiceChangeTracker } from "../change-tracker.ts";
import type { NodeContext, ProxyState } from "../proxy-state.ts";
import { buildProxyState, updateProxyState } from "../proxy-state.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "../testing/model-builders.ts";
import { testConfig, testNodeName } from "../testing/render-harness.ts";
import { multiProtocolAffinity, overall } from "../testing/scenarios.ts";
import { KUBE_FIREWALL, KUBE_PROXY_CANARY } from "./chain-names.ts";
import { IptablesState } from "./iptables-state.ts";
import { RenderCache } from "./render-cache.ts";
import { checkJumps } from "./jump-check.ts";
import type { RenderResult } from "./render.ts";
import { renderIptables } from "./render.ts";
import { filterTopChains, natTopChains } from "./render-static.ts";

const ctx: NodeContext = { family: "IPv4", node: { name: testNodeName, zone: "" } };
const config = testConfig();

/** A proxy reduced to its pure core: trackers, state, renderer, and an in-memory kernel. */
class PureProxy {
  readonly services = new ServiceChangeTracker();
  readonly slices = new EndpointSliceChangeTracker();
  readonly kernel = new IptablesState();
  readonly cache = new RenderCache();
  state: ProxyState = new Map();
  last: RenderResult | null = null;

  sync(full = false): RenderResult {
    const changedServices = this.services.drain().changed;
    const changedSlices = this.slices.drain().changed;
    const candidates = new Set([...changedServices, ...changedSlices]);
    const lookup = (key: string) => ({ service: this.services.get(key), slices: this.slices.slicesFor(key) });
    const update = updateProxyState(this.state, candidates, lookup, ctx);
    this.state = update.state;
    const result = renderIptables({
      state: this.state,
      config,
      changed: full || this.last === null ? null : update.changed,
      existingChains: this.last?.natChains ?? new Set(),
      cache: this.cache,
    });
    this.kernel.restore(result.text, { noflush: true });
    this.last = result;
    return result;
  }
}

function fullSyncOf(state: ProxyState): string {
  const kernel = new IptablesState();
  kernel.restore(renderIptables({ state, config, changed: null }).text, { noflush: true });
  return kernel.save();
}

function load(proxy: PureProxy, services: readonly Service[], slices: readonly EndpointSlice[]): void {
  for (const s of services) proxy.services.update(null, s);
  for (const s of slices) proxy.slices.update(null, s);
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
  it("rewrites only changed Services and converges on the full sync", () => {
    const proxy = new PureProxy();
    load(proxy, [...overall.services, ...multiProtocolAffinity.services], [...overall.slices, ...multiProtocolAffinity.slices]);
    const first = proxy.sync();
    expect(first.writtenServices).toBe(9);
    expect(proxy.kernel.save()).toBe(fullSyncOf(proxy.state));

    // An endpoint leaves svc4, svc1 is deleted, svc7 appears, svc2 gains a local endpoint,
    // and svc5 drops its source ranges (its KUBE-FW chain goes).
    const svc4 = findSlice("svc4");
    proxy.slices.update(svc4, { ...svc4, endpoints: svc4.endpoints.slice(1) });
    proxy.services.update(findService("svc1"), null);
    proxy.slices.update(findSlice("svc1"), null);
    const svc7 = makeService("ns7", "svc7", { clusterIPs: ["172.30.0.47"], ports: [makePort("p80", 80), makePort("p443", 443)] });
    proxy.services.update(null, svc7);
    proxy.slices.update(null, makeSlice("ns7", "svc7", [makeEndpoint("10.180.0.7")], {
      ports: [
        { name: "p80", protocol: "TCP", port: 80 },
        { name: "p443", protocol: "TCP", port: 443 },
      ],
    }));
    const svc2 = findSlice("svc2");
    proxy.slices.update(svc2, { ...svc2, endpoints: [...svc2.endpoints, makeEndpoint("10.180.0.22", { nodeName: testNodeName })] });
    const svc5 = findService("svc5");
    proxy.services.update(svc5, { ...svc5, loadBalancerSourceRanges: [] });

    const second = proxy.sync();
    expect(second.writtenServices).toBe(4);
    expect(second.deletedChains).toEqual([
      "KUBE-FW-NUKIZ6OKUXPJNT4C",
      "KUBE-SEP-SXIVWICOYRO3J4NJ",
      "KUBE-SEP-UKSFD7AGPMPPLUHC",
      "KUBE-SVC-XPGD46QRK7WJZT7O",
    ]);
    // svc3 did not change: its chains are left alone.
    expect(second.text).not.toContain(":KUBE-SVC-X27LE4BHSL4DOUIK");
    expect(second.text).toContain("-j KUBE-SVC-X27LE4BHSL4DOUIK");
    expect(second.text).toContain(":KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]");
    expect(proxy.kernel.save()).toBe(fullSyncOf(proxy.state));
    // Without the built-in jumps, the top-level chains are entered from outside this text.
    const entered = new Set<string>([KUBE_PROXY_CANARY, KUBE_FIREWALL, ...filterTopChains, ...natTopChains]);
    expect(checkJumps(second.text, { allowUndeclared: second.natChains, allowUnused: entered })).toEqual([]);
  });

  it("writes no Service chain when nothing changed, and counts every rule anyway", () => {
    const proxy = new PureProxy();
    load(proxy, overall.services, overall.slices);
    const first = proxy.sync();
    const again = proxy.sync();
    expect(again.writtenServices).toBe(0);
    expect(again.text).not.toMatch(/^:KUBE-(SVC|SEP|EXT|FW|SVL)-/m);
    expect(again.ruleCounts).toEqual(first.ruleCounts);
    expect(proxy.kernel.save()).toBe(fullSyncOf(proxy.state));
  });

  it("skips Services whose node-local state did not move", () => {
    const proxy = new PureProxy();
    const svc = makeService("ns", "local", { internalTrafficPolicy: "Local", clusterIPs: ["172.30.0.99"] });
    const slice = makeSlice("ns", "local", [makeEndpoint("10.180.0.1", { nodeName: testNodeName }), makeEndpoint("10.180.1.1", { nodeName: "node2" })]);
    load(proxy, [svc], [slice]);
    proxy.sync();
    // A remote endpoint stops being ready: this node only uses its local one.
    proxy.slices.update(slice, { ...slice, endpoints: [slice.endpoints[0] ?? makeEndpoint("x"), makeEndpoint("10.180.1.1", { nodeName: "node2", ready: false })] });
    expect(proxy.sync().writtenServices).toBe(0);
  });

  it("writes the canary in a full sync only, so a partial one never hides a flush; a full sync repairs it", () => {
    const proxy = new PureProxy();
    load(proxy, overall.services, overall.slices);
    proxy.sync();
    expect(proxy.kernel.hasChain("nat", KUBE_PROXY_CANARY)).toBe(true);
    expect(proxy.kernel.hasChain("filter", KUBE_PROXY_CANARY)).toBe(true);
    expect(proxy.sync().text).not.toContain(KUBE_PROXY_CANARY);
    proxy.kernel.flushTable("nat");
    expect(proxy.kernel.hasChain("nat", KUBE_PROXY_CANARY)).toBe(false);
    // The executor saw the canary gone: full sync, and the kernel has no chains to delete.
    proxy.last = null;
    proxy.sync(true);
    expect(proxy.kernel.save()).toBe(fullSyncOf(proxy.state));
  });

  it("fails to apply, as iptables-restore would, when a changed Service is left out", () => {
    const proxy = new PureProxy();
    load(proxy, overall.services, overall.slices);
    proxy.sync();
    const state = buildProxyState(
      [...overall.services, makeService("ns8", "new", { clusterIPs: ["172.30.0.48"] })],
      (key) => [...overall.slices, makeSlice("ns8", "new", [makeEndpoint("10.180.0.8")])].filter((s) => `${s.namespace}/${s.serviceName}` === key),
      ctx,
    );
    const wrong = renderIptables({ state, config, changed: new Set(), existingChains: proxy.last?.natChains ?? new Set() });
    expect(() => proxy.kernel.restore(wrong.text, { noflush: true })).toThrow(/Couldn't load target/);
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
