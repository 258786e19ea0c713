import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/support/fake-clock.ts";
import type { ConntrackDeletion, ConntrackFlow } from "./conntrack-cleanup.ts";
import type { ConntrackOutcome } from "./exec/conntrack.ts";
import { proxyMetrics } from "./proxy-metrics.ts";
import { buildProxyState } from "./proxy-state.ts";
import type { ConntrackCleaner } from "./stale-flows.ts";
import { StaleFlows } from "./stale-flows.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "./testing/model-builders.ts";
import { memoryLogger } from "./testing/test-logger.ts";

const dns = makeService("ns1", "dns", { clusterIPs: ["172.30.0.53"], ports: [makePort("dns", 53, "UDP")] });
const stateWith = (...ips: string[]) =>
  buildProxyState([dns], () => [makeSlice("ns1", "dns", ips.map((ip) => makeEndpoint(ip)), { ports: [{ name: "dns", protocol: "UDP", port: 53 }] })], {
    family: "IPv4",
    node: { name: "node1", zone: "" },
  });
const flowTo = (replySrc: string): ConntrackFlow => ({ origSrc: "10.180.9.9", origDst: "172.30.0.53", origSport: 1000, origDport: 53, replySrc, replySport: 53 });

/** A cleaner that lists the flows given (or fails to), and whose deletions fail when told to. */
function cleaner(flows: readonly ConntrackFlow[] | Error, failDeletes = false) {
  const sent: ConntrackDeletion[][] = [];
  let lists = 0;
  const c: ConntrackCleaner = {
    list: () => {
      lists++;
      return flows instanceof Error ? Promise.reject(flows) : Promise.resolve([...flows]);
    },
    delete: (deletions): Promise<ConntrackOutcome[]> => {
      sent.push([...deletions]);
      return Promise.resolve([failDeletes ? { deletions, deleted: null, error: "conntrack v1.4.8: Operation failed" } : { deletions, deleted: deletions.length }]);
    },
  };
  return { c, sent, lists: () => lists };
}

function staleFlows(c: ConntrackCleaner) {
  const registry = new Registry();
  const { log, lines } = memoryLogger();
  return { flows: new StaleFlows({ cleaner: c, family: "IPv4", log, metrics: proxyMetrics(registry), clock: new FakeClock() }), registry, lines };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

describe("StaleFlows", () => {
  it("reads the kernel's table once after a start, then compares states", async () => {
    const k = cleaner([flowTo("10.180.1.1"), flowTo("10.180.1.7")]);
    const { flows } = staleFlows(k.c);
    const one = stateWith("10.180.1.1");
    await flows.afterSync(new Map(), one, undefined);
    expect(k.sent).toEqual([[{ kind: "replies-from", origDst: "172.30.0.53", origDport: 53, replySrc: "10.180.1.7", replySport: 53 }]]);
    await flows.afterSync(one, stateWith("10.180.1.2"), undefined);
    expect(k.lists()).toBe(1);
    expect(k.sent[1]).toEqual([{ kind: "service-ip-to-endpoint", serviceIP: "172.30.0.53", endpointIP: "10.180.1.1" }]);
  });

  it("compares states when the kernel's table cannot be listed, and says so", async () => {
    const k = cleaner(new Error("conntrack: not found"));
    const { flows, lines } = staleFlows(k.c);
    await flows.afterSync(stateWith("10.180.1.1"), stateWith("10.180.1.2"), undefined);
    expect(k.sent).toEqual([[{ kind: "service-ip-to-endpoint", serviceIP: "172.30.0.53", endpointIP: "10.180.1.1" }]]);
    expect(lines().some((l) => String(l["msg"]).startsWith("cannot list the conntrack table"))).toBe(true);
  });

  it("counts and logs a failed deletion, and goes on", async () => {
    const k = cleaner([], true);
    const { flows, registry, lines } = staleFlows(k.c);
    await flows.afterSync(new Map(), stateWith("10.180.1.1"), undefined);
    await flows.afterSync(stateWith("10.180.1.1"), stateWith("10.180.1.2"), undefined);
    expect(await metric(registry, "signpost_proxy_conntrack_deletions_total", { result: "error" })).toBe(1);
    expect(lines().find((l) => l["msg"] === "conntrack deletion failed")?.["err"]).toContain("Operation failed");
  });
});
