// force_tcp, prefer_udp, max_concurrent and expire against upstreams on 127.0.0.1 that count how
// they were asked: by transport, on which TCP connection, how many at once.
import { Packet } from "dns2";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { ForwardOptions } from "./config/forward-options.ts";
import { resolveForwardOptions } from "./config/forward-options.ts";
import { forwardRoutes } from "./config/forward-routes.ts";
import { LiveForwarding } from "./config/live-forwarding.ts";
import { ForwardMetrics } from "./forward-metrics.ts";
import { createForwarder, type Forwarder } from "./forwarder.ts";
import type { Transport } from "./query-handler.ts";
import { RCODE } from "./records.ts";
import { LoopbackUpstream, type LoopbackUpstreamOptions } from "./testing/loopback-upstream.ts";
import { forwardRequest } from "./testing/messages.ts";
import { eventually } from "../../test/support/eventually.ts";

const request = (name: string, transport: Transport = "udp") => forwardRequest(name, { transport });

const until = (condition: () => boolean) => eventually(condition, "the upstream's connections");

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setUp(options: ForwardOptions, upstreamOptions: LoopbackUpstreamOptions = {}, maxTcpInFlight?: number) {
  const upstream = await LoopbackUpstream.start(upstreamOptions);
  closers.push(() => upstream.close());
  const routes = forwardRoutes([
    { zone: ".", upstreams: [{ address: "127.0.0.1", port: upstream.port }], policy: "sequential", maxFails: 0, healthCheckMs: 500, ...resolveForwardOptions(options) },
  ]);
  const metrics = new ForwardMetrics(["127.0.0.1:" + upstream.port]);
  const forwarder: Forwarder = createForwarder({
    upstreams: routes.upstreams,
    route: routes.route,
    zoneOf: routes.zoneOf,
    expireMs: routes.expireMs,
    probeOverTcp: routes.probeOverTcp,
    cache: null,
    metrics,
    ...(maxTcpInFlight === undefined ? {} : { maxTcpInFlight }),
  });
  closers.push(() => forwarder.close());
  return { upstream, forwarder, metrics };
}

const addressOf = (response: Buffer) => Packet.parse(response).answers[0]?.address;
const transports = (upstream: LoopbackUpstream) => upstream.asked.map((a) => a.transport);

describe("forward transport options", () => {
  it("asks over UDP by default whatever the client used (CoreDNS's prefer_udp)", async () => {
    const { upstream, forwarder } = await setUp({});
    expect(addressOf(await forwarder.forward(request("a.example", "udp")))).toBe("192.0.2.1");
    expect(addressOf(await forwarder.forward(request("b.example", "tcp")))).toBe("192.0.2.1");
    expect(transports(upstream)).toEqual(["udp", "udp"]);
  });

  it("asks again over TCP when the UDP answer is truncated", async () => {
    const { upstream, forwarder } = await setUp({}, { truncateUdp: true });
    expect(addressOf(await forwarder.forward(request("big.example")))).toBe("192.0.2.1");
    expect(transports(upstream)).toEqual(["udp", "tcp"]);
  });

  it("preferUdp: false asks over the client's transport, as CoreDNS does by default", async () => {
    const { upstream, forwarder } = await setUp({ preferUdp: false });
    await forwarder.forward(request("a.example", "tcp"));
    await forwarder.forward(request("b.example", "udp"));
    expect(transports(upstream)).toEqual(["tcp", "udp"]);
  });

  it("forceTcp asks every query over TCP, one pooled connection reused for queries one after another", async () => {
    const { upstream, forwarder } = await setUp({ forceTcp: true });
    for (const name of ["a.example", "b.example", "c.example"]) expect(addressOf(await forwarder.forward(request(name, "udp")))).toBe("192.0.2.1");
    expect(upstream.asked).toEqual([
      { name: "a.example", transport: "tcp", connection: 1 },
      { name: "b.example", transport: "tcp", connection: 1 },
      { name: "c.example", transport: "tcp", connection: 1 },
    ]);
    // Health and loop probes of an upstream whose zones force TCP go over TCP too.
    await forwarder.askUpstream(0, Buffer.from([0, 0, 2, 0, 1]));
    expect(upstream.asked.at(-1)).toEqual({ name: "", transport: "tcp", connection: 1 });
  });

  it("asks again on a new connection when the upstream had closed the pooled one", async () => {
    const { upstream, forwarder } = await setUp({ forceTcp: true });
    await forwarder.forward(request("a.example"));
    upstream.dropConnections();
    await until(() => upstream.connectionsOpen === 0);
    expect(addressOf(await forwarder.forward(request("b.example")))).toBe("192.0.2.1");
    expect(upstream.asked.map((a) => a.connection)).toEqual([1, 2]);
  });

  it("drops a pooled connection on which the upstream sent a frame nobody asked for", async () => {
    const { upstream, forwarder } = await setUp({ forceTcp: true }, { doubleTcpAnswers: true });
    expect(addressOf(await forwarder.forward(request("a.example")))).toBe("192.0.2.1");
    await until(() => upstream.connectionsOpen === 0);
    expect(addressOf(await forwarder.forward(request("b.example")))).toBe("192.0.2.1");
    expect(upstream.asked.map((a) => a.connection)).toEqual([1, 2]);
  });

  it("closes a pooled connection idle for `expire`, and opens a new one for the next query", async () => {
    const { upstream, forwarder } = await setUp({ forceTcp: true, expireMs: 50 });
    await forwarder.forward(request("a.example"));
    await until(() => upstream.connectionsAccepted === 1 && upstream.connectionsOpen === 0);
    await forwarder.forward(request("b.example"));
    expect(upstream.asked.map((a) => a.connection)).toEqual([1, 2]);
  });

  it("keeps at most maxTcpInFlight connections to an upstream; the other queries wait for one", async () => {
    const { upstream, forwarder } = await setUp({ forceTcp: true }, { hold: true }, 2);
    const answers = ["a", "b", "c", "d", "e"].map((n) => Promise.resolve(forwarder.forward(request(`${n}.example`))));
    await until(() => upstream.holding === 2);
    expect(upstream.connectionsOpen).toBe(2);
    upstream.options.hold = false;
    upstream.release();
    expect((await Promise.all(answers)).map(addressOf)).toEqual(Array(5).fill("192.0.2.1"));
    expect(upstream.connectionsAccepted).toBe(2);
  });

  it("maxConcurrent refuses a query past the bound without asking, counts it, and takes queries again once answers come", async () => {
    const { upstream, forwarder, metrics } = await setUp({ maxConcurrent: 2 }, { hold: true });
    const held = [forwarder.forward(request("a.example")), forwarder.forward(request("b.example"))];
    // The same question as one in flight shares it: no new upstream query, not refused.
    const shared = forwarder.forward(request("a.example"));
    await until(() => upstream.holding === 2);
    const refused = await forwarder.forward(request("c.example"));
    expect((refused[3] ?? 0) & 0x0f).toBe(RCODE.REFUSED);
    expect(Packet.parse(refused).questions[0]?.name).toBe("c.example");
    expect(metrics.exposition()).toContain("coredns_forward_max_concurrent_rejects_total 1\n");
    upstream.options.hold = false;
    upstream.release();
    expect((await Promise.all([...held, shared])).map(addressOf)).toEqual(["192.0.2.1", "192.0.2.1", "192.0.2.1"]);
    expect(addressOf(await forwarder.forward(request("c.example")))).toBe("192.0.2.1");
    expect(upstream.asked.map((a) => a.name)).toEqual(["a.example", "b.example", "c.example"]);
  });

  it("reloads live: a new forward entry's options apply to the next query, the old pool's connections close", async () => {
    const upstream = await LoopbackUpstream.start();
    closers.push(() => upstream.close());
    const zone = (options: ForwardOptions) => [{ zone: ".", upstreams: [{ address: "127.0.0.1", port: upstream.port }], policy: "sequential" as const, maxFails: 0, healthCheckMs: 500, ...resolveForwardOptions(options) }];
    const live = new LiveForwarding(zone({ forceTcp: true }), null, pino({ level: "silent" }));
    closers.push(() => live.close());
    await live.forward(request("a.example"));
    live.replace(zone({ maxConcurrent: 10 }));
    await live.forward(request("b.example"));
    expect(transports(upstream)).toEqual(["tcp", "udp"]);
    await until(() => upstream.connectionsOpen === 0);
  });
});
