// Measures the proxy's render and restore at scale, for the closing notes, never as a test:
//   ip netns exec SOME_NS env SIGNPOST_RUN=PREFIX [BENCH_IPTABLES=legacy|nft] node test/support/proxy-scale-bench.ts 1000 10000
// For each size: N ClusterIP Services (every fifth a NodePort) of 10 endpoints each. It times the
// node-local state, a full render (cold cache), the full restore into a fresh network namespace
// with the real iptables-restore (staged as the proxier does it; BENCH_SINGLE=1 also times one
// single restore of the same rules), a partial sync of one changed Service (render and restore),
// and a full re-render with a warm cache; and prints the rule counts.
import { performance } from "node:perf_hooks";
import { slicesByService } from "../../pkg/model/key.ts";
import type { EndpointSlice, Service } from "../../pkg/model/types.ts";
import { ExecaRunner, netnsPrefix } from "../../pkg/proxy/exec/command-runner.ts";
import { IptablesExecutor, type IptablesBackend } from "../../pkg/proxy/iptables/executor.ts";
import { RenderCache } from "../../pkg/proxy/iptables/render-cache.ts";
import { renderIptables, renderOrder, renderServiceChains } from "../../pkg/proxy/iptables/render.ts";
import { STAGE_BATCH_SERVICES } from "../../pkg/proxy/proxier.ts";
import { buildProxyState, totalEndpoints, updateProxyState } from "../../pkg/proxy/proxy-state.ts";
import { renderConfigFor, defaultProxySettings } from "../../pkg/proxy/proxy-settings.ts";
import { makeEndpoint, makeNode, makePort, makeService, makeSlice } from "../../pkg/proxy/testing/model-builders.ts";
import { NetNs } from "./netns.ts";

function cluster(n: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const nodePort = i % 5 === 0 ? 30000 + (i % 2700) : 0;
    services.push(makeService(`ns${i % 50}`, `svc${i}`, { type: nodePort === 0 ? "ClusterIP" : "NodePort", clusterIPs: [ip], ports: [makePort("http", 80, "TCP", nodePort)] }));
    const eps = Array.from({ length: 10 }, (_, j) => makeEndpoint(`10.${128 + Math.floor(i / 6000)}.${Math.floor((i % 6000) / 25)}.${(i % 25) * 10 + j + 1}`, { nodeName: j === 0 ? "node1" : "node2" }));
    slices.push(makeSlice(`ns${i % 50}`, `svc${i}`, eps, { ports: [{ name: "http", protocol: "TCP", port: 8080 }] }));
  }
  return { services, slices };
}

const backend: IptablesBackend = process.env["BENCH_IPTABLES"] === "legacy" ? "legacy" : process.env["BENCH_IPTABLES"] === "nft" ? "nft" : "default";

const ms = (t: number): string => `${(performance.now() - t).toFixed(0)} ms`;

async function measure(n: number): Promise<void> {
  const { services, slices } = cluster(n);
  const byKey = slicesByService(slices);
  const ctx = { family: "IPv4" as const, node: { name: "node1", zone: "" } };
  let t = performance.now();
  const state = buildProxyState(services, (k) => byKey.get(k) ?? [], ctx);
  const stateTime = ms(t);
  const config = renderConfigFor({
    settings: { ...defaultProxySettings, clusterCIDRs: ["10.128.0.0/9"] },
    family: "IPv4",
    node: makeNode("node1", { addresses: [{ type: "InternalIP", address: "192.168.0.2" }] }),
    randomFully: true,
    omitEndpointComments: totalEndpoints(state) > 1000,
  });
  const cache = new RenderCache();
  t = performance.now();
  const full = renderIptables({ state, config, changed: null, cache, includeBuiltinJumps: true });
  const renderTime = ms(t);

  const ns = await NetNs.create("bench");
  try {
    const iptables = new IptablesExecutor("IPv4", new ExecaRunner(netnsPrefix(ns.name)), backend);
    // As the proxier's full sync does it: on iptables-nft the Services' chains in batches, then
    // one atomic switch; on iptables-legacy one restore.
    const { backend: kernelBackend } = await iptables.capabilities();
    t = performance.now();
    if (kernelBackend === "nft") {
      const keys = renderOrder(state);
      for (let i = 0; i < keys.length; i += STAGE_BATCH_SERVICES) {
        await iptables.restore(renderServiceChains({ state, config, keys: keys.slice(i, i + STAGE_BATCH_SERVICES), cache }).text);
      }
      await iptables.restore(renderIptables({ state, config, changed: new Set(), cache, includeBuiltinJumps: true }).text);
    } else {
      await iptables.restore(full.text);
    }
    const restoreTime = `${ms(t)} (${kernelBackend === "nft" ? "staged" : "one restore"})`;
    if (process.env["BENCH_SINGLE"] === "1") {
      const single = await NetNs.create("bench1");
      try {
        t = performance.now();
        await new IptablesExecutor("IPv4", new ExecaRunner(netnsPrefix(single.name)), backend).restore(full.text);
        process.stdout.write(`[${backend}] ${n} Services: the same rules in one restore ${ms(t)}\n`);
      } finally {
        await single.destroy();
      }
    }

    const key = "ns7/svc7";
    const changedSlice = makeSlice("ns7", "svc7", [makeEndpoint("10.250.0.1"), makeEndpoint("10.250.0.2")], { ports: [{ name: "http", protocol: "TCP", port: 8080 }] });
    const svc = services[7];
    t = performance.now();
    const update = updateProxyState(state, [key], () => ({ service: svc ?? null, slices: [changedSlice] }), ctx);
    const partial = renderIptables({ state: update.state, config, changed: update.changed, existingChains: full.natChains, cache });
    const partialRender = ms(t);
    t = performance.now();
    await iptables.restore(partial.text);
    const partialRestore = ms(t);

    t = performance.now();
    renderIptables({ state: update.state, config, changed: null, existingChains: partial.natChains, cache });
    const warmRender = ms(t);
    const saved = `${await iptables.save("filter")}${await iptables.save("nat")}`;
    const savedRules = saved.split("\n").filter((l) => l.startsWith("-A ")).length;

    process.stdout.write(
      `[${kernelBackend}] ${n} Services x 10 endpoints: state ${stateTime}; full render ${renderTime} (${(full.text.length / 1e6).toFixed(1)} MB, ` +
        `${full.ruleCounts.nat} nat + ${full.ruleCounts.filter} filter rules, ${full.natChains.size} service chains); ` +
        `full restore as the proxier does it ${restoreTime}; partial sync of 1 Service: render ${partialRender} (${partial.text.split("\n").length} lines), restore ${partialRestore}; ` +
        `full re-render, warm cache ${warmRender}; rules in the kernel ${savedRules}\n`,
    );
  } finally {
    await ns.destroy();
  }
}

for (const arg of process.argv.slice(2)) await measure(Number(arg));
