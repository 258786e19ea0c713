import { describe, expect, it } from "vitest";
import { LoopDetector } from "./loop-detect.ts";
import type { QueryHandler } from "./query-handler.ts";
import { RCODE } from "./records.ts";
import { render } from "./testing/messages.ts";

/** A client's query for the probe question as an upstream would send it on: a new ID, any case. */
function asUpstreamWouldAsk(question: Buffer, upperCase: boolean): Buffer {
  const message = Buffer.alloc(12 + question.length);
  message.writeUInt16BE(0xbeef, 0);
  message[2] = 0x01;
  message.writeUInt16BE(1, 4);
  Buffer.from(upperCase ? question.toString("latin1").toUpperCase() : question.toString("latin1"), "latin1").copy(message, 12);
  // Type and class must stay as they were: upper-casing touched only the letters of the name.
  question.copy(message, 12 + question.length - 4, question.length - 4);
  return message;
}

async function eventually(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
}

const inner: QueryHandler = () => Buffer.from("inner");

describe("LoopDetector", () => {
  it("finds the upstream that sends its probe back to us, answers the probe SERVFAIL and stops probing it", async () => {
    const loops: [number, string][] = [];
    const probes: number[] = [];
    let handler: QueryHandler = inner;
    const detector = new LoopDetector({
      upstreams: 2,
      // Upstream 1 forwards to us; upstream 0 answers (here: at once) and is left alone.
      probe: async (index, question) => {
        probes.push(index);
        if (index === 1) return handler(asUpstreamWouldAsk(question, true), "udp");
        return Buffer.alloc(0);
      },
      onLoop: (index, name) => loops.push([index, name]),
      retryMs: 10,
    });
    handler = detector.watch(inner);
    detector.start();
    await eventually(() => probes.length === 2);
    detector.stop();
    expect(loops).toHaveLength(1);
    expect(loops[0]?.[0]).toBe(1);
    expect(loops[0]?.[1]).toMatch(/^[0-9a-f]{16}\.[0-9a-f]{16}\.$/);
    expect(detector.looped(1)).toBe(true);
    expect(detector.looped(0)).toBe(false);
    expect(probes.sort()).toEqual([0, 1]);
  });

  it("answers a probe that came back SERVFAIL with its question, and passes every other query on", async () => {
    let question: Buffer = Buffer.alloc(0);
    const detector = new LoopDetector({
      upstreams: 1,
      probe: (_index, q) => {
        question = q;
        return Promise.resolve();
      },
      onLoop: () => {},
    });
    detector.start();
    await Promise.resolve();
    const watched = detector.watch(inner);
    const response = watched(asUpstreamWouldAsk(question, false), "udp");
    expect(response).toBeInstanceOf(Buffer);
    const rendered = render(response as Buffer);
    expect(rendered).toMatchObject({ id: 0xbeef, rcode: RCODE.SERVFAIL, flags: "qr rd ra" });
    expect(rendered.question).toMatch(/^[0-9a-f]{16}\.[0-9a-f]{16} HINFO$/);
    // The same name asked for another type is not the probe.
    const otherType = asUpstreamWouldAsk(question, false);
    otherType.writeUInt16BE(1, otherType.length - 4);
    expect(watched(otherType, "udp")).toEqual(Buffer.from("inner"));
    expect(watched(Buffer.from("short"), "udp")).toEqual(Buffer.from("inner"));
  });

  it("tries an upstream that does not answer again, until it gives up", async () => {
    let tries = 0;
    let clock = 0;
    let gaveUp = false;
    const detector = new LoopDetector({
      upstreams: 1,
      // Each try takes 10 s of the test's clock: tries at 0, 10 and 20 s, none at 30 s.
      probe: () => {
        tries++;
        clock += 10_000;
        return Promise.reject(new Error("timed out"));
      },
      onLoop: () => {},
      retryMs: 1,
      giveUpMs: 30_000,
      now: () => {
        if (clock >= 30_000) gaveUp = true;
        return clock;
      },
    });
    detector.start();
    await eventually(() => gaveUp);
    detector.stop();
    expect(tries).toBe(3);
  });
});
