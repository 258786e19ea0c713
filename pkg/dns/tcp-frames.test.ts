import { describe, expect, it } from "vitest";
import { frameReader } from "./tcp-frames.ts";

function framed(...messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), m]));
}

function collect(): { frames: Buffer[]; feed: (chunk: Buffer) => void } {
  const frames: Buffer[] = [];
  const reader = frameReader((f) => {
    frames.push(f);
  });
  return { frames, feed: (chunk) => reader.push(chunk) };
}

const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe("frameReader", () => {
  it("reads several messages from one chunk, an empty one among them", () => {
    const { frames, feed } = collect();
    feed(framed(bytes(20), Buffer.alloc(0), bytes(3, 7)));
    expect(frames).toEqual([bytes(20), Buffer.alloc(0), bytes(3, 7)]);
  });

  it("reassembles a message sent one byte at a time, the length split too", () => {
    const { frames, feed } = collect();
    const stream = framed(bytes(700), bytes(5, 2));
    for (let i = 0; i < stream.length; i++) feed(stream.subarray(i, i + 1));
    expect(frames).toEqual([bytes(700), bytes(5, 2)]);
  });

  it("reads the largest message, 65535 bytes, in uneven chunks", () => {
    const { frames, feed } = collect();
    const stream = framed(bytes(65535), bytes(12));
    for (let at = 0, step = 1; at < stream.length; at += step, step = (step * 7) % 5000 + 1) feed(stream.subarray(at, at + step));
    expect(frames.map((f) => f.length)).toEqual([65535, 12]);
    expect(frames[0]?.equals(bytes(65535))).toBe(true);
  });

  it("gives nothing for a frame still incomplete, and hands out copies that outlive the chunk", () => {
    const { frames, feed } = collect();
    const chunk = framed(bytes(10));
    feed(Buffer.concat([chunk, Buffer.from([0x01, 0x00, 1, 2, 3])]));
    chunk.fill(0);
    expect(frames).toEqual([bytes(10)]);
    feed(Buffer.from([0]));
    expect(frames).toHaveLength(1);
  });

  it("stops after the frame its consumer refuses more behind, holds the rest unparsed, and goes on when resumed", () => {
    const frames: Buffer[] = [];
    let room = 2;
    const reader = frameReader((f) => {
      frames.push(f);
      return --room > 0;
    });
    const stream = framed(bytes(5), bytes(6), bytes(7), bytes(8));
    reader.push(stream.subarray(0, stream.length - 3));
    expect(frames).toEqual([bytes(5), bytes(6)]);
    expect(reader.holding).toBe(true);
    expect(reader.midFrame).toBe(false);

    room = 1;
    reader.resume();
    expect(frames).toEqual([bytes(5), bytes(6), bytes(7)]);
    expect(reader.holding).toBe(true);

    room = 10;
    reader.resume();
    // The last frame is short of its final three bytes: nothing is held, the client owes them.
    expect(reader.holding).toBe(false);
    expect(reader.midFrame).toBe(true);
    reader.push(stream.subarray(stream.length - 3));
    expect(frames).toEqual([bytes(5), bytes(6), bytes(7), bytes(8)]);
    expect(reader.midFrame).toBe(false);
  });

  it("keeps the stream's order when fed while holding", () => {
    const frames: Buffer[] = [];
    let stop = true;
    const reader = frameReader((f) => {
      frames.push(f);
      return !stop;
    });
    reader.push(framed(bytes(1), bytes(2)));
    reader.push(framed(bytes(3)));
    stop = false;
    reader.resume();
    expect(frames).toEqual([bytes(1), bytes(2), bytes(3)]);
    expect(reader.holding).toBe(false);
  });

  it("is mid-frame from the first byte of a length to the last byte of its message", () => {
    const reader = frameReader(() => {});
    expect(reader.midFrame).toBe(false);
    reader.push(Buffer.from([0]));
    expect(reader.midFrame).toBe(true);
    reader.push(Buffer.from([2, 9]));
    expect(reader.midFrame).toBe(true);
    reader.push(Buffer.from([9]));
    expect(reader.midFrame).toBe(false);
    reader.push(framed(Buffer.alloc(0)));
    expect(reader.midFrame).toBe(false);
  });
});
