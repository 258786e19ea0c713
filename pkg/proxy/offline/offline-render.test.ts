// The offline subcommands' core on a kubectl-style List: the rendered text is complete (jumps
// from the built-in chains included, every jump declared) and the trace answers where a
// connection goes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultProxySettings } from "../proxy-settings.ts";
import { KUBE_PROXY_CANARY } from "../iptables/chain-names.ts";
import { checkJumps } from "../../../test/support/jump-check.ts";
import { parseObjects } from "../../kube/objects-file.ts";
import { proxyObjectKinds, renderForNode, traceForNode } from "./offline-render.ts";

const objects = parseObjects(readFileSync(new URL("./testdata/cluster.yaml", import.meta.url), "utf8"), "cluster.yaml", proxyObjectKinds);
const settings = { ...defaultProxySettings, clusterCIDRs: ["10.244.0.0/16"] };
const base = { objects, nodeName: "node-a", settings, family: "IPv4" as const };
const trace = (src: string, dst: string, port: number) => traceForNode({ ...base, src, dst, port, protocol: "TCP" });

describe("render", () => {
  it("prints one complete restore input: built-in jumps included, every jump declared", () => {
    const { text } = renderForNode(base);
    expect(text).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(text).toContain("-j MASQUERADE --random-fully");
    expect(checkJumps(text, { allowUnused: new Set([KUBE_PROXY_CANARY]) })).toEqual([]);
  });

  it("names the Nodes it has when the one asked for is missing", () => {
    expect(() => renderForNode({ ...base, nodeName: "node-z" })).toThrow('SP_BAD_FLAG: --node: no Node named "node-z" in the objects (Nodes found: node-a, node-b)');
  });
});

describe("trace", () => {
  it("follows a node port from outside to both endpoints, masqueraded", () => {
    const t = trace("192.168.50.2", "192.168.50.1", 30080);
    expect(t).toMatchObject({ verdict: "DNAT", endpoints: ["10.244.1.2:8080", "10.244.2.2:8080"], masqueraded: true });
    expect(t.chains).toContain("nat/KUBE-NODEPORTS");
    expect(t.paths.map((p) => p.probability)).toEqual([0.5, 0.5]);
  });

  it("does not masquerade a pod reaching a cluster IP", () => {
    expect(trace("10.244.1.9", "10.96.0.10", 80)).toMatchObject({ verdict: "DNAT", masqueraded: false });
  });

  it("rejects a Service without endpoints", () => {
    expect(trace("10.244.1.9", "10.96.0.11", 80)).toMatchObject({ verdict: "REJECT", endpoints: [] });
  });

  it("drops Local-policy traffic on a node without a local endpoint, and LB traffic from outside the source ranges", () => {
    expect(trace("198.51.100.7", "192.168.50.1", 30012).verdict).toBe("DROP");
    expect(trace("192.0.2.1", "203.0.113.12", 80).verdict).toBe("DROP");
    // On the node that has the endpoint, the allowed range reaches it with its address kept.
    expect(traceForNode({ ...base, nodeName: "node-b", src: "198.51.100.7", dst: "203.0.113.12", port: 80, protocol: "TCP" })).toMatchObject({
      verdict: "DNAT",
      endpoints: ["10.244.2.7:8080"],
      masqueraded: false,
    });
  });
});
