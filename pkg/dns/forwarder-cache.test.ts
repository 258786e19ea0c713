// The forwarder's use of its cache, against small responders on 127.0.0.1 that count what
// reaches them: a dead upstream is asked once per SERVFAIL TTL, answers are kept apart by the
// client's DO and CD bits, and a CNAME chain that stops short is asked for again.
import { createSocket, type Socket } from "node:dgram";
import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { ForwardCache } from "./forward-cache.ts";
import { createForwarder } from "./forwarder.ts";
import { RCODE, TYPE } from "./records.ts";
import { forwardRequest, render } from "./testing/messages.ts";

/** A loopback responder answering each query with what `respond` builds (nothing when null). */
async function responder(respond: (query: Packet) => Packet | null): Promise<{ port: number; queries: () => number; close: () => void }> {
  const socket: Socket = createSocket("udp4");
  let queries = 0;
  socket.on("message", (message, rinfo) => {
    queries++;
    const response = respond(Packet.parse(message));
    if (response !== null) socket.send(response.toBuffer(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, queries: () => queries, close: () => socket.close() };
}

function reply(query: Packet, fill: (response: Packet, name: string) => void): Packet {
  const response = Packet.createResponseFromRequest(query);
  response.header.ra = 1;
  fill(response, query.questions[0]?.name ?? "");
  return response;
}

describe("the forwarder's cache", () => {
  it("asks a dead upstream once per SERVFAIL TTL, not once per retry", async () => {
    const dead = await responder(() => null);
    let now = 1_000_000;
    const cache = new ForwardCache({ servfailTtl: 5, now: () => now });
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: dead.port }], timeoutMs: 100, cache });
    await expect(forwarder.forward(forwardRequest("example.org"))).rejects.toThrow(/timed out/);
    for (let i = 0; i < 5; i++) expect(render(await forwarder.forward(forwardRequest("example.org"))).rcode).toBe(RCODE.SERVFAIL);
    expect(dead.queries()).toBe(1);
    now += 5_000;
    await expect(forwarder.forward(forwardRequest("example.org"))).rejects.toThrow(/timed out/);
    expect(dead.queries()).toBe(2);
    await forwarder.close();
    dead.close();
  });

  it("keeps an upstream's SERVFAIL for the SERVFAIL TTL", async () => {
    const failing = await responder((query) => reply(query, (response) => (response.header.rcode = RCODE.SERVFAIL)));
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: failing.port }], cache: new ForwardCache({ servfailTtl: 5 }) });
    for (let i = 0; i < 3; i++) expect(render(await forwarder.forward(forwardRequest("example.org"))).rcode).toBe(RCODE.SERVFAIL);
    expect(failing.queries()).toBe(1);
    await forwarder.close();
    failing.close();
  });

  it("keeps answers apart by the client's DO and CD bits", async () => {
    const upstream = await responder((query) =>
      reply(query, (response, name) => response.answers.push(new Packet.Resource({ name, type: TYPE.A, class: 1, ttl: 60, address: "192.0.2.1" }))),
    );
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }] });
    const bits = [{}, { dnssecOk: true }, { cd: true }, { dnssecOk: true, cd: true }];
    for (const each of bits) await forwarder.forward(forwardRequest("example.org", each));
    expect(upstream.queries()).toBe(4);
    for (const each of bits) await forwarder.forward(forwardRequest("example.org", each));
    expect(upstream.queries()).toBe(4);
    await forwarder.close();
    upstream.close();
  });

  it("asks again for a CNAME chain that stops short of the asked type", async () => {
    const upstream = await responder((query) =>
      reply(query, (response, name) => response.answers.push(new Packet.Resource({ name, type: TYPE.CNAME, class: 1, ttl: 60, domain: "gone.example.net" }))),
    );
    const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }] });
    for (let i = 0; i < 3; i++) expect(render(await forwarder.forward(forwardRequest("example.org"))).answer).toEqual(["example.org CNAME gone.example.net"]);
    expect(upstream.queries()).toBe(3);
    expect(forwarder.cache?.size).toBe(0);
    await forwarder.close();
    upstream.close();
  });
});
