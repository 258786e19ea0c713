import { afterEach, describe, expect, it } from "vitest";
import { startSideServers, type SideServers } from "./health-server.ts";

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe("side servers", () => {
  let servers: SideServers | null = null;
  afterEach(async () => {
    await servers?.close();
    servers = null;
  });

  it("serves /health always, /ready by the state, and /metrics, each on its own port", async () => {
    let notReady: string | null = "not synced with the API server yet";
    servers = await startSideServers("127.0.0.1", { health: 0, ready: 0, metrics: 0 }, {
      notReady: () => notReady,
      metrics: () => Promise.resolve({ text: "up 1\n", contentType: "text/plain; version=0.0.4" }),
    });
    const { health, ready, metrics } = servers.ports;
    expect(new Set([health, ready, metrics]).size).toBe(3);
    expect(await get(health, "/health")).toEqual({ status: 200, body: "OK" });
    expect(await get(ready, "/ready")).toEqual({ status: 503, body: "not synced with the API server yet\n" });
    notReady = null;
    expect(await get(ready, "/ready")).toEqual({ status: 200, body: "OK" });
    notReady = "shutting down (lameduck)";
    expect((await get(ready, "/ready")).status).toBe(503);
    expect(await get(health, "/health")).toEqual({ status: 200, body: "OK" });
    expect(await get(metrics, "/metrics")).toEqual({ status: 200, body: "up 1\n" });
    expect((await get(health, "/ready")).status).toBe(404);
    expect((await get(metrics, "/health")).status).toBe(404);
  });

  it("puts endpoints asked on the same port on one server", async () => {
    const probe = await startSideServers("127.0.0.1", { health: 0, ready: 0, metrics: 0 }, {
      notReady: () => null,
      metrics: () => Promise.resolve({ text: "", contentType: "text/plain" }),
    });
    const port = probe.ports.health;
    await probe.close();
    servers = await startSideServers("127.0.0.1", { health: port, ready: port, metrics: 0 }, {
      notReady: () => null,
      metrics: () => Promise.resolve({ text: "", contentType: "text/plain" }),
    });
    expect(servers.ports.ready).toBe(port);
    expect((await get(port, "/health")).status).toBe(200);
    expect((await get(port, "/ready")).status).toBe(200);
  });

  it("names the flag when a port is taken", async () => {
    servers = await startSideServers("127.0.0.1", { health: 0, ready: 0, metrics: 0 }, {
      notReady: () => null,
      metrics: () => Promise.resolve({ text: "", contentType: "text/plain" }),
    });
    await expect(
      startSideServers("127.0.0.1", { health: 0, ready: servers.ports.health, metrics: 0 }, {
        notReady: () => null,
        metrics: () => Promise.resolve({ text: "", contentType: "text/plain" }),
      }),
    ).rejects.toThrow(/SP_LISTEN: --ready-port \d+: cannot listen on 127.0.0.1:\d+/);
  });
});
