// The protobuf watch stream's framing: frames come out whole wherever the chunks split them,
// and a length over the bound ends the stream instead of being buffered.
import { describe, expect, it } from "vitest";
import { frame } from "../../test/support/protobuf-writer.ts";
import { FrameTooLarge, LengthDelimitedFrames } from "./length-delimited-frames.ts";

const bodies = [Buffer.from("first"), Buffer.alloc(0), Buffer.from("a somewhat longer third frame"), Buffer.from("x")];
const stream = Buffer.concat(bodies.map(frame));

function split(chunks: Buffer[], max = 1024): { frames: string[]; midFrame: boolean } {
  const frames: string[] = [];
  const splitter = new LengthDelimitedFrames(max);
  for (const chunk of chunks) splitter.push(chunk, (buf, start, end) => frames.push(buf.toString("utf8", start, end)));
  return { frames, midFrame: splitter.midFrame };
}

describe("LengthDelimitedFrames", () => {
  it("yields every frame whole however the stream is cut into chunks", () => {
    const expected = bodies.map((b) => b.toString());
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const got = split([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
        expect(got, `cut at ${a} and ${b}`).toEqual({ frames: expected, midFrame: false });
      }
    }
    expect(split([...stream].map((byte) => Buffer.from([byte]))).frames).toEqual(expected);
  });

  it("says when the stream stopped inside a frame or its length", () => {
    expect(split([stream.subarray(0, 2)]).midFrame).toBe(true);
    expect(split([stream.subarray(0, 6)]).midFrame).toBe(true);
    expect(split([stream.subarray(0, 9)])).toEqual({ frames: ["first"], midFrame: false });
    const cut = new LengthDelimitedFrames(1024);
    cut.push(stream.subarray(0, 6), () => {});
    expect(() => cut.finish()).toThrow(/ended in the middle of a frame/);
  });

  it("refuses a frame longer than its bound before buffering any of it", () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(2 ** 31);
    expect(() => split([huge], 1 << 20)).toThrow(FrameTooLarge);
    expect(() => split([huge.subarray(0, 2), huge.subarray(2)], 1 << 20)).toThrow(/2147483648 bytes is over the bound of 1048576/);
  });
});
