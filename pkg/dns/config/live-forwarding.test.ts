// The swap of forwarder generations on a reload, against held-back loopback upstreams: a query in
// flight when the forward zones are replaced still gets its answer from the old upstream (its
// socket is not closed under it), and the next query goes to the new one.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { Packet } from "dns2";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { forwardRequest } from "../testing/messages.ts";
import { resolveForwardOptions } from "./forward-options.ts";
import { LiveForwarding } from "./live-forwarding.ts";

interface HeldUpstream {
  readonly port: number;
  readonly waiting: number;
  /** Answers every query held so far with `address`. */
  release(): void;
  close(): void;
}

/** A UDP upstream on 127.0.0.1 that holds each query until released, then answers it with `address`. */
async function heldUpstream(address: string): Promise<HeldUpstream> {
  const socket: Socket = createSocket("udp4");
  const held: [Buffer, RemoteInfo][] = [];
  socket.on("message", (message, rinfo) => void held.push([message, rinfo]));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    get waiting() {
      return held.length;
    },
    release() {
      for (const [message, rinfo] of held.splice(0)) {
        const query = Packet.parse(message);
        const response = Packet.createResponseFromRequest(query);
        const question = query.questions[0];
        if (question !== undefined) response.answers.push(new Packet.Resource({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 30, address }));
        socket.send(response.toBuffer(), rinfo.port, rinfo.address);
      }
    },
    close: () => socket.close(),
  };
}

const answerOf = (response: Buffer) => Packet.parse(response).answers[0]?.address;
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe("live forwarding across a reload", () => {
  it("answers a query in flight from the old upstream and sends the next to the new one", async () => {
    const [oldUpstream, newUpstream] = await Promise.all([heldUpstream("192.0.2.1"), heldUpstream("192.0.2.2")]);
    closers.push(() => oldUpstream.close(), () => newUpstream.close());
    const zone = (port: number) => [{ zone: ".", upstreams: [{ address: "127.0.0.1", port }], policy: "sequential" as const, maxFails: 0, healthCheckMs: 500, ...resolveForwardOptions({}) }];
    const live = new LiveForwarding(zone(oldUpstream.port), null, pino({ level: "silent" }));
    closers.push(() => live.close());

    const inFlight = live.forward(forwardRequest("before.example.org"));
    while (oldUpstream.waiting === 0) await new Promise((r) => setTimeout(r, 5));
    live.replace(zone(newUpstream.port));
    const after = live.forward(forwardRequest("after.example.org"));
    while (newUpstream.waiting === 0) await new Promise((r) => setTimeout(r, 5));

    oldUpstream.release();
    newUpstream.release();
    expect(answerOf(await inFlight)).toBe("192.0.2.1");
    expect(answerOf(await after)).toBe("192.0.2.2");
    expect(live.exposition()).toContain(`coredns_forward_requests_total{to="127.0.0.1:${newUpstream.port}"} 1`);
  });
});
