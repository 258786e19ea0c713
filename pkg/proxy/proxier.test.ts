// The proxier against the in-memory kernel: what a sync writes, when it is partial or full, and
// what follows a flush, a refused restore, or a UDP endpoint going away.
import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type { ConntrackFlow } from "./conntrack-cleanup.ts";
import { FakeClock } from "../../test/support/fake-clock.ts";
import { ProxyHealth } from "./health/proxy-health.ts";
import { FakeIptables } from "./iptables/fake-iptables.ts";
import { tracePacket } from "./iptables/packet-tracer.ts";
import { renderIptables } from "./iptables/render.ts";
import { builtinJumpsFor, canaryRestoreText } from "./iptables/render-static.ts";
import { KUBE_PROXY_CANARY } from "./iptables/chain-names.ts";
import { FULL_SYNC_PERIOD_MS, Proxier } from "./proxier.ts";
import { proxyMetrics } from "./proxy-metrics.ts";
import { defaultProxySettings } from "./proxy-settings.ts";
import { makeEndpoint, makeNode, makePort, makeService, makeSlice } from "./testing/model-builders.ts";
import { memoryLogger } from "./testing/test-logger.ts";
import { proxierOnFakeKernel } from "./testing/proxier-harness.ts";

const web = makeService("ns1", "web", { clusterIPs: ["172.30.0.10"], ports: [makePort("p80", 80)] });
const dns = makeService("ns1", "dns", { clusterIPs: ["172.30.0.53"], ports: [makePort("dns", 53, "UDP")] });
const webSlice = makeSlice("ns1", "web", [makeEndpoint("10.180.0.1"), makeEndpoint("10.180.0.2")]);
const dnsSlice = (ips: string[]) =>
  makeSlice("ns1", "dns", ips.map((ip) => makeEndpoint(ip)), { ports: [{ name: "dns", protocol: "UDP", port: 53 }] });

function trace(iptables: FakeIptables, dst: string, port: number, protocol: "TCP" | "UDP" = "TCP") {
  return tracePacket(iptables.kernel, {
    src: "10.0.1.5",
    dst,
    dport: port,
    protocol,
    isLocalAddress: (ip) => ip === "192.168.0.2" || ip.startsWith("127."),
  });
}

async function metric(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((n, v) => n + v.value, 0);
}

describe("Proxier", () => {
  it("leaves a node port claimed by two Services to the older one, logs the other by name, and hands the port over when the older goes", async () => {
    const { iptables, proxier, lines } = proxierOnFakeKernel();
    const older = makeService("ns2", "older", { type: "NodePort", createdAtMs: 1000, clusterIPs: ["172.30.0.20"], ports: [makePort("p80", 80, "TCP", 30080)] });
    const newer = makeService("ns1", "newer", { type: "NodePort", createdAtMs: 2000, clusterIPs: ["172.30.0.21"], ports: [makePort("p80", 80, "TCP", 30080), makePort("p81", 81, "TCP", 30081)] });
    proxier.onServiceEvent(null, newer);
    proxier.onServiceEvent(null, older);
    proxier.onSliceEvent(null, makeSlice("ns2", "older", [makeEndpoint("10.180.0.20")]));
    proxier.onSliceEvent(null, makeSlice("ns1", "newer", [makeEndpoint("10.180.0.21")], { ports: [{ name: "p80", protocol: "TCP", port: 80 }, { name: "p81", protocol: "TCP", port: 81 }] }));
    await proxier.sync();
    const atNodePort = (port: number) => trace(iptables, "192.168.0.2", port).endpoints;
    expect(atNodePort(30080)).toEqual(["10.180.0.20:80"]);
    // The rest of the newer Service is programmed.
    expect(atNodePort(30081)).toEqual(["10.180.0.21:81"]);
    expect(trace(iptables, "172.30.0.21", 80).endpoints).toEqual(["10.180.0.21:80"]);
    const warning = lines().find((l) => l["service"] === "ns1/newer" && l["level"] === 40);
    expect(warning?.["msg"]).toBe("service ns1/newer claims node ports another Service holds: TCP/30080 (kept by ns2/older, the older); they are left out, the rest of ns1/newer is programmed");

    proxier.onServiceEvent(older, null);
    expect((await proxier.sync()).kind).toBe("partial");
    expect(atNodePort(30080)).toEqual(["10.180.0.21:80"]);
    expect(lines().some((l) => l["msg"] === "service ns1/newer keeps all its node ports again")).toBe(true);
  });

  it("programs everything at the first sync, jumps from the built-in chains included", async () => {
    const { iptables, proxier, programmed } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    const report = await proxier.sync();
    expect(report).toMatchObject({ kind: "full", ok: true, writtenServices: 1 });
    const t = trace(iptables, "172.30.0.10", 80);
    expect(t.verdict).toBe("DNAT");
    expect(t.endpoints).toEqual(["10.180.0.1:80", "10.180.0.2:80"]);
    expect(iptables.kernel.rules("nat", "PREROUTING").map((r) => r.target)).toContainEqual({ kind: "jump", chain: "KUBE-SERVICES" });
    expect(programmed).toEqual([1]);
  });

  it("rewrites only the Services that changed in a partial sync", async () => {
    const { iptables, proxier, settled } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    proxier.onServiceEvent(null, dns);
    proxier.onSliceEvent(null, dnsSlice(["10.180.1.1"]));
    await proxier.sync();
    proxier.onSliceEvent(dnsSlice(["10.180.1.1"]), dnsSlice(["10.180.1.1", "10.180.1.2"]));
    const report = await proxier.sync();
    expect(report).toMatchObject({ kind: "partial", ok: true, writtenServices: 1 });
    const text = iptables.restores.at(-1) ?? "";
    expect(text).toContain("ns1/dns:dns -> 10.180.1.2:53");
    expect(text).not.toContain("ns1/web:p80 -> 10.180.0.1:80");
    expect(trace(iptables, "172.30.0.10", 80).endpoints).toHaveLength(2);
    expect(trace(iptables, "172.30.0.53", 53, "UDP").endpoints).toEqual(["10.180.1.1:53", "10.180.1.2:53"]);
    // The heap is settled after the full sync (the first programmed state), not after the partial one.
    expect(settled).toEqual([1]);
  });

  it("sees a flush through the canary and restores everything with a full sync", async () => {
    const { iptables, proxier, lines, registry } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    await proxier.sync();
    expect(await proxier.checkCanary()).toBe(false);
    iptables.kernel.flushTable("nat");
    expect(trace(iptables, "172.30.0.10", 80).verdict).not.toBe("DNAT");
    expect(await proxier.checkCanary()).toBe(true);
    const report = await proxier.sync();
    expect(report.kind).toBe("full");
    expect(trace(iptables, "172.30.0.10", 80).verdict).toBe("DNAT");
    expect(lines().some((l) => String(l["msg"]).includes("canary"))).toBe(true);
    expect(await metric(registry, "signpost_proxy_canary_missing_total")).toBe(1);
  });

  it("reads the tables once on a node without our rules and writes the canary with them; before the read only where something of ours is in place", async () => {
    const { iptables, proxier } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    // An empty node: one read of each table, then one restore holding the canary and the rules.
    await proxier.sync();
    expect([...iptables.saves].sort()).toEqual(["filter", "nat"]);
    expect(iptables.restores).toHaveLength(1);
    expect(iptables.restores[0]).toContain(`:${KUBE_PROXY_CANARY}`);
    expect(await proxier.checkCanary()).toBe(false);
    expect(trace(iptables, "172.30.0.10", 80).verdict).toBe("DNAT");
    // A restart on a node with its rules in place: the read shows the canary, so one restore.
    const restarted = proxierOnFakeKernel();
    await restarted.iptables.restore(iptables.restores.join(""));
    const before = restarted.iptables.restores.length;
    restarted.proxier.onServiceEvent(null, web);
    restarted.proxier.onSliceEvent(null, webSlice);
    expect((await restarted.proxier.sync()).kind).toBe("full");
    expect(restarted.iptables.restores.slice(before)).toHaveLength(1);
    expect(restarted.iptables.restores.at(-1)).not.toContain(`:${KUBE_PROXY_CANARY}`);
    expect(await restarted.proxier.checkCanary()).toBe(false);
    expect(trace(restarted.iptables, "172.30.0.10", 80).verdict).toBe("DNAT");
    // The filter table's canary emptied (iptables -F) while the jumps stay: a flush after the
    // read could take those jumps unseen, so the canary is written on its own, the tables read
    // again, and the rules restored without it.
    await restarted.iptables.restore(`*filter\n-F ${KUBE_PROXY_CANARY}\nCOMMIT\n`);
    expect(await restarted.proxier.checkCanary()).toBe(true);
    const n = restarted.iptables.restores.length;
    const reads = restarted.iptables.saves.length;
    expect((await restarted.proxier.sync()).kind).toBe("full");
    const written = restarted.iptables.restores.slice(n);
    expect(written).toHaveLength(2);
    expect(written[0]).toBe(canaryRestoreText());
    expect(written[1]).not.toContain(`:${KUBE_PROXY_CANARY}`);
    expect(restarted.iptables.saves.length - reads).toBe(4);
    expect(await restarted.proxier.checkCanary()).toBe(false);
  });

  it("writes the canary before the read on a node without our rules when the full sync is staged", async () => {
    const { iptables, proxier } = proxierOnFakeKernel(2);
    for (let i = 0; i < 7; i++) {
      proxier.onServiceEvent(null, makeService("ns3", `s${i}`, { clusterIPs: [`172.30.3.${i + 1}`] }));
      proxier.onSliceEvent(null, makeSlice("ns3", `s${i}`, [makeEndpoint(`10.180.3.${i + 1}`)]));
    }
    expect(await proxier.sync()).toMatchObject({ kind: "full", ok: true, writtenServices: 7 });
    // The canary, four batches of two Services, then the switch-over.
    expect(iptables.restores).toHaveLength(6);
    expect(iptables.restores[0]).toBe(canaryRestoreText());
    expect(iptables.saves).toHaveLength(4);
    expect(await proxier.checkCanary()).toBe(false);
    expect(trace(iptables, "172.30.3.7", 80).verdict).toBe("DNAT");
  });

  it("sees rules flushed without deleting chains (iptables -F): the canary's rule is gone", async () => {
    const { iptables, proxier } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    await proxier.sync();
    iptables.kernel.restore(`*filter\n-F ${KUBE_PROXY_CANARY}\nCOMMIT\n`);
    expect(await proxier.checkCanary()).toBe(true);
    expect((await proxier.sync()).kind).toBe("full");
  });

  it("does not refill the canary in a partial sync, so a flush just before one is still seen", async () => {
    const { iptables, proxier } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    await proxier.sync();
    // `iptables -t nat -F` lands between a canary check and a partial sync, which rewrites the
    // top-level chains but not the emptied per-Service ones.
    iptables.kernel.flushRules("nat");
    proxier.onServiceEvent(null, dns);
    proxier.onSliceEvent(null, dnsSlice(["10.180.1.1"]));
    expect((await proxier.sync()).kind).toBe("partial");
    expect(trace(iptables, "172.30.0.10", 80).verdict).not.toBe("DNAT");
    expect(await proxier.checkCanary()).toBe(true);
    const repair = await proxier.sync();
    expect(repair.kind).toBe("full");
    expect(trace(iptables, "172.30.0.10", 80).verdict).toBe("DNAT");
    expect(await proxier.checkCanary()).toBe(false);
  });

  it("checks the canary every sync period once started, and names it as the reason of the full sync", async () => {
    const { iptables, proxier, clock, lines } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    proxier.start();
    await clock.advance(1);
    expect(proxier.lastSync?.kind).toBe("full");
    const restores = iptables.restores.length;
    iptables.kernel.flushTable("filter");
    await clock.advance(30_000);
    await clock.advance(1_000);
    const synced = lines().filter((l) => l["msg"] === "rules synced");
    expect(synced.at(-1)).toMatchObject({ kind: "full", reasons: ["canary"] });
    expect(iptables.restores.length).toBeGreaterThan(restores);
    expect(await proxier.checkCanary()).toBe(false);
    await proxier.stop();
  });

  it("puts back a jump from a built-in chain that someone deleted, at the next full sync, in its restore", async () => {
    const { iptables, proxier, lines } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    await proxier.sync();
    // kube-proxy's twelve, and the two to the localnet guard.
    expect(lines().find((l) => l["msg"] === "jumps from the built-in chains put in place")?.["jumps"]).toHaveLength(14);
    expect(await iptables.deleteRule("nat", "PREROUTING", ["-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"])).toBe(true);
    expect(trace(iptables, "172.30.0.10", 80).verdict).not.toBe("DNAT");
    // A change of node labels that matter (the zone) makes the next sync full.
    proxier.setNode(makeNode("node1", { addresses: [{ type: "InternalIP", address: "192.168.0.2" }], zone: "z2" }));
    const before = iptables.restores.length;
    expect((await proxier.sync()).kind).toBe("full");
    expect(trace(iptables, "172.30.0.10", 80).verdict).toBe("DNAT");
    // The canary is intact, so one restore, which also holds the missing jump.
    expect(iptables.restores.length - before).toBe(1);
    expect(iptables.restores.at(-1)).toContain('-I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(lines().filter((l) => l["msg"] === "jumps from the built-in chains put in place").at(-1)?.["jumps"]).toEqual(["nat/PREROUTING -> KUBE-SERVICES"]);
  });

  it("names in its log why a sync is full: the start, a failure, a change of node, the hour", async () => {
    const { iptables, proxier, lines, clock } = proxierOnFakeKernel();
    const reasons = () => lines().filter((l) => l["msg"] === "rules synced").at(-1)?.["reasons"];
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    await proxier.sync();
    expect(reasons()).toEqual(["start"]);
    expect((await proxier.sync()).kind).toBe("partial");
    expect(reasons()).toEqual([]);
    iptables.failNextRestore("Chain 'KUBE-NOPE' does not exist");
    await proxier.sync();
    expect((await proxier.sync()).kind).toBe("full");
    expect(reasons()).toEqual(["failure"]);
    proxier.setNode(makeNode("node1", { addresses: [{ type: "InternalIP", address: "192.168.0.2" }], zone: "z2" }));
    await proxier.sync();
    expect(reasons()).toEqual(["node"]);
    await clock.advance(FULL_SYNC_PERIOD_MS);
    await proxier.sync();
    expect(reasons()).toEqual(["periodic"]);
  });

  it("logs a refused restore with the lines around the failing one, counts it, and follows with a full sync", async () => {
    const { iptables, proxier, lines, registry, health, clock } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice);
    await proxier.sync();
    proxier.onServiceEvent(null, dns);
    proxier.onSliceEvent(null, dnsSlice(["10.180.1.1"]));
    iptables.failNextRestore("Chain 'KUBE-NOPE' does not exist");
    const failed = await proxier.sync();
    expect(failed).toMatchObject({ kind: "partial", ok: false });
    const logged = lines().find((l) => String(l["msg"]).startsWith("iptables-restore failed"));
    expect(logged?.["msg"]).toContain("KUBE-NOPE");
    expect(String(logged?.["input"])).toMatch(/> 2: /);
    expect(await metric(registry, "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total")).toBe(1);
    await clock.advance(1);
    expect(health.status().healthy).toBe(true);
    const next = await proxier.sync();
    expect(next).toMatchObject({ kind: "full", ok: true });
    expect(trace(iptables, "172.30.0.53", 53, "UDP").endpoints).toEqual(["10.180.1.1:53"]);
  });

  it("deletes the UDP flows of an endpoint that went away, and those made while a Service had none", async () => {
    const { proxier, deleted } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, dns);
    await proxier.sync();
    proxier.onSliceEvent(null, dnsSlice(["10.180.1.1", "10.180.1.2"]));
    await proxier.sync();
    expect(deleted).toEqual([{ kind: "service-ip", serviceIP: "172.30.0.53" }]);
    deleted.length = 0;
    proxier.onSliceEvent(dnsSlice(["10.180.1.1", "10.180.1.2"]), dnsSlice(["10.180.1.2"]));
    await proxier.sync();
    expect(deleted).toEqual([{ kind: "service-ip-to-endpoint", serviceIP: "172.30.0.53", endpointIP: "10.180.1.1" }]);
  });

  it("after a start, deletes from the kernel's table only the flows not DNATed to a live endpoint", async () => {
    const { proxier, deleted, kernelFlows } = proxierOnFakeKernel();
    const flow = (origDst: string, replySrc: string, origSport: number): ConntrackFlow => ({
      origSrc: "10.180.9.9", origDst, origSport, origDport: 53, replySrc, replySport: 53,
    });
    const live = flow("172.30.0.53", "10.180.1.2", 1001);
    const gone = flow("172.30.0.53", "10.180.1.7", 1002);
    const rejected = flow("172.30.0.53", "172.30.0.53", 1003);
    const notOurs = flow("192.0.2.53", "192.0.2.53", 1004);
    kernelFlows.push(live, gone, rejected, notOurs);
    proxier.onServiceEvent(null, dns);
    proxier.onSliceEvent(null, dnsSlice(["10.180.1.1", "10.180.1.2"]));
    await proxier.sync();
    expect(deleted).toEqual([
      { kind: "replies-from", origDst: "172.30.0.53", origDport: 53, replySrc: "10.180.1.7", replySport: 53 },
      { kind: "replies-from", origDst: "172.30.0.53", origDport: 53, replySrc: "172.30.0.53", replySport: 53 },
    ]);
  });

  it("leaves out a port on a protocol the kernel cannot NAT and programs the rest", async () => {
    const clock = new FakeClock();
    const iptables = new FakeIptables("IPv4", ["TCP", "UDP"]);
    const { log } = memoryLogger();
    const proxier = new Proxier({
      family: "IPv4", nodeName: "node1", settings: defaultProxySettings, iptables, conntrack: null, log,
      metrics: proxyMetrics(new Registry()), health: new ProxyHealth(clock, 60_000), clock, minSyncPeriodMs: 0, syncPeriodMs: 30_000,
    });
    const mixed = makeService("ns1", "mixed", { clusterIPs: ["172.30.0.20"], ports: [makePort("a", 80), makePort("s", 9999, "SCTP")] });
    proxier.onServiceEvent(null, mixed);
    proxier.onSliceEvent(null, makeSlice("ns1", "mixed", [makeEndpoint("10.180.0.9")], {
      ports: [{ name: "a", protocol: "TCP", port: 80 }, { name: "s", protocol: "SCTP", port: 9999 }],
    }));
    expect((await proxier.sync()).ok).toBe(true);
    expect(iptables.restores.at(-1)).not.toContain("sctp");
    expect(trace(iptables, "172.30.0.20", 80).verdict).toBe("DNAT");
  });

  it("coalesces a burst of events into the bucket's syncs and reports healthy again once it is done", async () => {
    const { clock, proxier, iptables, health } = proxierOnFakeKernel();
    proxier.start();
    await clock.advance(0);
    const before = iptables.restores.length;
    for (let i = 0; i < 20; i++) {
      proxier.onServiceEvent(null, makeService("ns2", `s${i}`, { clusterIPs: [`172.30.1.${i + 1}`] }));
      await clock.advance(10);
    }
    await clock.advance(1000);
    // The first event takes the second token of the burst (SYNC_BURST) at once; the other
    // nineteen wait for the next token and go in one sync.
    expect(iptables.restores.length - before).toBe(2);
    expect(health.status().healthy).toBe(true);
    await proxier.stop();
  });

  it("is unhealthy when a queued change waits longer than the health timeout", async () => {
    const { clock, proxier, health } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    await clock.advance(60_000);
    expect(health.status().healthy).toBe(false);
    await proxier.sync();
    expect(health.status().healthy).toBe(true);
  });

  it("records network programming latency from the EndpointSlice's trigger time", async () => {
    const { clock, proxier, registry } = proxierOnFakeKernel();
    proxier.onServiceEvent(null, web);
    proxier.onSliceEvent(null, webSlice, clock.now() - 2000);
    await proxier.sync();
    const h = (await registry.getMetricsAsJSON()).find((m) => m.name === "kubeproxy_network_programming_duration_seconds");
    const sum = h?.values.find((v) => (v as { metricName?: string }).metricName === "kubeproxy_network_programming_duration_seconds_sum");
    expect(sum?.value).toBe(2);
  });

  it("loads a large full sync in staged batches and ends with exactly the rules of one full restore", async () => {
    const { iptables, proxier } = proxierOnFakeKernel(2);
    // What an earlier run left: a Service since deleted, whose chains must go.
    proxier.onServiceEvent(null, makeService("old", "gone", { clusterIPs: ["172.30.9.9"] }));
    proxier.onSliceEvent(null, makeSlice("old", "gone", [makeEndpoint("10.180.9.9")]));
    await proxier.sync();
    const restarted = proxierOnFakeKernel(2);
    await restarted.iptables.restore(iptables.restores.join(""));
    for (let i = 0; i < 7; i++) {
      const svc = makeService("ns3", `s${i}`, { clusterIPs: [`172.30.3.${i + 1}`] });
      restarted.proxier.onServiceEvent(null, svc);
      restarted.proxier.onSliceEvent(null, makeSlice("ns3", `s${i}`, [makeEndpoint(`10.180.3.${i + 1}`), makeEndpoint(`10.180.4.${i + 1}`)]));
    }
    const before = restarted.iptables.restores.length;
    const report = await restarted.proxier.sync();
    expect(report).toMatchObject({ kind: "full", ok: true, writtenServices: 7 });
    // Four batches of two Services, then the switch-over with the jumps; the earlier run left the canary.
    expect(restarted.iptables.restores.length - before).toBe(5);

    const reference = new FakeIptables();
    await reference.restore(
      renderIptables({
        state: restarted.proxier.state,
        config: { family: "IPv4", localDetector: { ifLocal: ["-s", "10.0.0.0/8"], ifNotLocal: ["!", "-s", "10.0.0.0/8"] }, masqueradeAll: false, nodePortAddresses: [], nodeIPs: ["192.168.0.2"], interfaceIPs: null, localhostNodePorts: true, masqueradeRandomFully: false, omitEndpointComments: false, dropInvalid: true },
        changed: null,
        insertJumps: builtinJumpsFor({ family: "IPv4", localhostNodePorts: true }),
      }).text,
    );
    expect(restarted.iptables.kernel.save()).toBe(reference.kernel.save());
  });
});
