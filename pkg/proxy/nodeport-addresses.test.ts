// --nodeport-addresses: matched against the node's interface addresses in the daemon (as
// kube-proxy does), against the Node object's addresses offline, and the keyword "primary".
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/support/fake-clock.ts";
import { ProxyHealth } from "./health/proxy-health.ts";
import { FakeIptables } from "./iptables/fake-iptables.ts";
import { nodePortIPs, nodePortsOnAllAddresses, nodePortsOnLoopback } from "./iptables/render-static.ts";
import { Proxier } from "./proxier.ts";
import { proxyMetrics } from "./proxy-metrics.ts";
import type { ProxySettings } from "./proxy-settings.ts";
import { defaultProxySettings, nodePortCIDRsOf, renderConfigFor } from "./proxy-settings.ts";
import { makeNode } from "./testing/model-builders.ts";
import { memoryLogger } from "./testing/test-logger.ts";

const dualStack = makeNode("n1", {
  addresses: [
    { type: "InternalIP", address: "192.168.0.2" },
    { type: "InternalIP", address: "fd00::2" },
    { type: "ExternalIP", address: "203.0.113.2" },
  ],
});

const settings = (nodePortAddresses: string[]): ProxySettings => ({ ...defaultProxySettings, nodePortAddresses });

describe("nodePortCIDRsOf", () => {
  it.each([
    ["CIDRs as given", ["10.0.0.0/8", "fd00::/64"], dualStack, ["10.0.0.0/8", "fd00::/64"]],
    ["primary: the first address of each family", ["primary"], dualStack, ["192.168.0.2/32", "fd00::2/128"]],
    ["primary without a Node: every address", ["primary"], null, []],
    ["primary leaves a loopback node IP out", ["primary"], makeNode("n1", { addresses: [{ type: "InternalIP", address: "127.0.0.1" }] }), []],
  ])("%s", (_what, given, node, cidrs) => {
    expect(nodePortCIDRsOf(settings(given), node)).toEqual(cidrs);
  });
});

describe("the addresses node ports answer on", () => {
  const config = (interfaceIPs: string[] | null, given = ["10.99.0.0/16"]) =>
    renderConfigFor({ settings: settings(given), family: "IPv4", node: dualStack, randomFully: false, omitEndpointComments: false, interfaceIPs });

  it("are the interface addresses inside the CIDRs, even those the Node object does not list", () => {
    expect(nodePortIPs(config(["127.0.0.1", "10.99.0.7", "192.168.0.2", "10.99.1.1"]))).toEqual(["10.99.0.7", "10.99.1.1"]);
  });

  it("are the Node's addresses when the interfaces are unknown (the offline render)", () => {
    expect(nodePortIPs(config(null, ["192.168.0.0/24"]))).toEqual(["192.168.0.2"]);
    expect(nodePortIPs(config(null))).toEqual([]);
  });

  it("are every local address without CIDRs of the family", () => {
    expect(nodePortsOnAllAddresses(config(null, ["fd00::/64"]))).toBe(true);
    expect(nodePortsOnAllAddresses(config(null, ["primary"]))).toBe(false);
  });

  it("include 127.0.0.1, which needs route_localnet, for every address or a CIDR holding it", () => {
    expect([[], ["127.0.0.0/8"], ["0.0.0.0/0"], ["192.168.0.0/24", "127.0.0.1/32"]].map((given) => nodePortsOnLoopback(config(null, given)))).toEqual([true, true, true, true]);
    expect([["192.168.0.0/24"], ["primary"]].map((given) => nodePortsOnLoopback(config(null, given)))).toEqual([false, false]);
    expect(nodePortsOnLoopback({ ...config(null, []), localhostNodePorts: false })).toBe(false);
  });
});

describe("the proxier with --nodeport-addresses", () => {
  function setup(read: () => Promise<readonly string[]>) {
    const clock = new FakeClock();
    const iptables = new FakeIptables();
    const { log, lines } = memoryLogger();
    const proxier = new Proxier({
      family: "IPv4",
      nodeName: "n1",
      settings: settings(["10.99.0.0/16"]),
      iptables,
      conntrack: null,
      log,
      metrics: proxyMetrics(new Registry()),
      health: new ProxyHealth(clock, 60_000),
      clock,
      minSyncPeriodMs: 1000,
      syncPeriodMs: 30_000,
      interfaceAddresses: read,
    });
    proxier.setNode(dualStack);
    const nodePortJumps = () => iptables.kernel.save().split("\n").filter((l) => l.startsWith("-A KUBE-SERVICES") && l.includes("-j KUBE-NODEPORTS"));
    return { proxier, lines, nodePortJumps };
  }

  it("reads the interface addresses on each sync and follows them", async () => {
    let addresses = ["192.168.0.2", "10.99.0.7"];
    const { proxier, nodePortJumps } = setup(async () => Promise.resolve(addresses));
    await proxier.sync();
    expect(nodePortJumps()).toEqual(['-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 10.99.0.7 -j KUBE-NODEPORTS']);
    addresses = ["10.99.0.8"];
    expect(await proxier.sync()).toMatchObject({ kind: "full", ok: true });
    expect(nodePortJumps()).toHaveLength(1);
    expect(nodePortJumps()[0]).toContain("-d 10.99.0.8 -j");
  });

  it("keeps the last addresses read when they cannot be read, and says so", async () => {
    let fail = false;
    const { proxier, lines, nodePortJumps } = setup(async () => {
      await Promise.resolve();
      if (fail) throw new Error("ip: not found");
      return ["10.99.0.7"];
    });
    await proxier.sync();
    fail = true;
    expect(await proxier.sync()).toMatchObject({ ok: true });
    expect(nodePortJumps()[0]).toContain("-d 10.99.0.7 -j");
    expect(lines().some((l) => l["msg"] === "cannot read the interface addresses for --nodeport-addresses; keeping the last ones known")).toBe(true);
  });
});
