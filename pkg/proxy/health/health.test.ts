import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../../test/support/fake-clock.ts";
import { memoryLogger } from "../testing/test-logger.ts";
import { makeNode } from "../testing/model-builders.ts";
import { healthHandler } from "./health-server.ts";
import { nodeEligible } from "./node-eligibility.ts";
import type { Listening } from "../../http/side-server.ts";
import { listenHttp } from "../../http/side-server.ts";
import { goTimeString, ProxyHealth } from "./proxy-health.ts";
import { healthCheckBody, ServiceHealthServer } from "./service-health-server.ts";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

describe("ProxyHealth", () => {
  it("is healthy while starting, and unhealthy once a queued change waits past the timeout", async () => {
    const clock = new FakeClock();
    const health = new ProxyHealth(clock, 60_000);
    expect(health.status().healthy).toBe(true);
    health.queued("IPv4");
    await clock.advance(59_999);
    expect(health.status().healthy).toBe(true);
    await clock.advance(1);
    expect(health.status().healthy).toBe(false);
    health.updated("IPv4");
    expect(health.status()).toEqual({ healthy: true, lastUpdated: clock.now(), now: clock.now() });
  });

  it("prints times as Go's time.Time does", () => {
    expect(goTimeString(Date.UTC(2024, 0, 2, 3, 4, 5, 120))).toBe("2024-01-02 03:04:05.12 +0000 UTC");
    expect(goTimeString(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe("2024-01-02 03:04:05 +0000 UTC");
    expect(goTimeString(0)).toBe("0001-01-01 00:00:00 +0000 UTC");
  });
});

describe("/healthz and /livez", () => {
  it("answers 200 or 503 with kube-proxy's JSON, /healthz also failing for an ineligible node", async () => {
    const clock = new FakeClock(Date.UTC(2024, 0, 2, 3, 4, 5));
    const health = new ProxyHealth(clock, 1000);
    let eligible = true;
    const counted: string[] = [];
    const server: Listening = await listenHttp("127.0.0.1", 0, healthHandler({ health, nodeEligible: () => eligible, count: (k, c) => counted.push(`${k} ${c}`) }), "--healthz-bind-address");
    open.push(server);
    expect(await get(server.port, "/healthz")).toEqual({
      status: 200,
      body: '{"lastUpdated": "2024-01-02 03:04:05 +0000 UTC","currentTime": "2024-01-02 03:04:05 +0000 UTC", "nodeEligible": true}',
    });
    eligible = false;
    expect((await get(server.port, "/healthz")).status).toBe(503);
    expect((await get(server.port, "/livez")).status).toBe(200);
    health.queued("IPv4");
    await clock.advance(2000);
    expect(await get(server.port, "/livez")).toEqual({
      status: 503,
      body: '{"lastUpdated": "0001-01-01 00:00:00 +0000 UTC","currentTime": "2024-01-02 03:04:07 +0000 UTC"}',
    });
    expect((await get(server.port, "/other")).status).toBe(404);
    expect(counted).toEqual(["healthz 200", "healthz 503", "livez 200", "livez 503"]);
  });
});

describe("nodeEligible", () => {
  it.each([
    ["a plain node", makeNode("n1"), true],
    ["a node with other taints", makeNode("n1", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }), true],
    ["a node the autoscaler is removing", makeNode("n1", { taints: [{ key: "ToBeDeletedByClusterAutoscaler", value: "1718000000", effect: "NoSchedule" }] }), false],
    ["a node being deleted", makeNode("n1", { deleting: true }), false],
    ["a node that is gone", null, false],
  ])("%s: %s", (_what, node, eligible) => {
    expect(nodeEligible(node)).toBe(eligible);
  });
});

describe("health-check node ports", () => {
  it("answers 200 with local endpoints and 503 without, with kube-proxy's body", async () => {
    const { log } = memoryLogger();
    let healthy = true;
    const server = new ServiceHealthServer({ addresses: ["127.0.0.1"], proxyHealthy: () => healthy, log });
    open.push(server);
    const probe = await listenHttp("127.0.0.1", 0, () => undefined, "a free port");
    const port = probe.port;
    await probe.close();
    await server.sync(new Map([["ns1/web", { nodePort: port, localEndpoints: 2 }]]));
    const ok = await get(port, "/anything");
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(healthCheckBody("ns1/web", 2, true));
    expect(ok.body).toBe('{\n\t"service": {\n\t\t"namespace": "ns1",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}');
    await server.sync(new Map([["ns1/web", { nodePort: port, localEndpoints: 0 }]]));
    expect((await get(port, "/")).status).toBe(503);
    await server.sync(new Map([["ns1/web", { nodePort: port, localEndpoints: 1 }]]));
    healthy = false;
    expect(JSON.parse((await get(port, "/")).body)).toMatchObject({ localEndpoints: 1, serviceProxyHealthy: false });
    await server.sync(new Map());
    expect(server.ports().size).toBe(0);
    await expect(get(port, "/")).rejects.toThrow();
  });
});
