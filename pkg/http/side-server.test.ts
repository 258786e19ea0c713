import { afterEach, describe, expect, it } from "vitest";
import { type Listening, listenHttp, metricsHandler, routed, send, splitBindAddress } from "./side-server.ts";

const open: Listening[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function request(port: number, path: string, method = "GET"): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
}

describe("routed", () => {
  it("answers its paths whatever the method and the query, and anything else with Go's 404", async () => {
    const server = await listenHttp("127.0.0.1", 0, routed({ "/health": (_req, res) => send(res, 200, "OK") }), "--health-port 0");
    open.push(server);
    expect(await request(server.port, "/health")).toEqual({ status: 200, body: "OK", type: "text/plain; charset=utf-8" });
    expect((await request(server.port, "/health?verbose=1")).status).toBe(200);
    expect((await request(server.port, "/health", "POST")).status).toBe(200);
    expect(await request(server.port, "/other")).toMatchObject({ status: 404, body: "404 page not found\n" });
    expect((await request(server.port, "/toString")).status).toBe(404);
  });
});

describe("metricsHandler", () => {
  it("serves the exposition with its content type, and a 500 saying why when it cannot be made", async () => {
    let fail = false;
    const metrics = () => (fail ? Promise.reject(new Error("collector broke")) : Promise.resolve({ text: "up 1\n", contentType: "text/plain; version=0.0.4" }));
    const server = await listenHttp("127.0.0.1", 0, routed({ "/metrics": metricsHandler(metrics) }), "--metrics-port 0");
    open.push(server);
    expect(await request(server.port, "/metrics")).toEqual({ status: 200, body: "up 1\n", type: "text/plain; version=0.0.4" });
    fail = true;
    expect(await request(server.port, "/metrics")).toMatchObject({ status: 500, body: "metrics failed: collector broke\n" });
  });
});

describe("listenHttp", () => {
  it("names the setting and the address when the port is taken", async () => {
    const first = await listenHttp("127.0.0.1", 0, () => undefined, "first");
    open.push(first);
    await expect(listenHttp("127.0.0.1", first.port, () => undefined, `--healthz-bind-address 127.0.0.1:${first.port}`)).rejects.toThrow(
      new RegExp(`SP_LISTEN: --healthz-bind-address 127.0.0.1:${first.port}: cannot listen on 127.0.0.1:${first.port}: .*EADDRINUSE`),
    );
  });

  it("splits host:port, [v6]:port and :port", () => {
    expect(splitBindAddress("0.0.0.0:10256")).toEqual({ host: "0.0.0.0", port: 10256 });
    expect(splitBindAddress("[::1]:10249")).toEqual({ host: "::1", port: 10249 });
    expect(splitBindAddress(":10256")).toEqual({ host: "", port: 10256 });
    expect(() => splitBindAddress("10256")).toThrow(/is not host:port/);
  });
});
