// The JSON watch stream's framing: lines come out whole wherever the chunks split them, the last
// one even without its newline, and a line over the bound ends the stream instead of being
// buffered.
import { describe, expect, it } from "vitest";
import { FrameTooLarge } from "./length-delimited-frames.ts";
import { NewlineDelimitedFrames } from "./newline-delimited-frames.ts";

const lines = ['{"type":"ADDED"}', "", '{"name":"ünïcödé ✓"}', "x"];
const stream = Buffer.from(lines.map((l) => `${l}\n`).join(""));

function split(chunks: Buffer[], max = 1024): string[] {
  const out: string[] = [];
  const splitter = new NewlineDelimitedFrames(max);
  const onLine = (buf: Buffer, start: number, end: number) => out.push(buf.toString("utf8", start, end));
  for (const chunk of chunks) splitter.push(chunk, onLine);
  splitter.finish(onLine);
  return out;
}

describe("NewlineDelimitedFrames", () => {
  it("yields every line whole however the stream is cut into chunks, multi-byte characters included", () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        expect(split([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), `cut at ${a} and ${b}`).toEqual(lines);
      }
    }
    expect(split([...stream].map((byte) => Buffer.from([byte])))).toEqual(lines);
  });

  it("hands out the last line at the end when no newline followed it, and nothing when one did", () => {
    expect(split([Buffer.from('{"a":1}\n{"b"'), Buffer.from(":2}")])).toEqual(['{"a":1}', '{"b":2}']);
    expect(split([Buffer.from('{"a":1}\n')])).toEqual(['{"a":1}']);
  });

  it("does not keep the chunk it was given: a line that spans chunks is copied", () => {
    const first = Buffer.from('{"a":');
    const out: string[] = [];
    const splitter = new NewlineDelimitedFrames(1024);
    splitter.push(first, () => {});
    first.fill(0x20);
    splitter.push(Buffer.from("1}\n"), (buf, start, end) => out.push(buf.toString("utf8", start, end)));
    expect(out).toEqual(['{"a":1}']);
  });

  it("refuses a line longer than its bound, within a chunk or across chunks, and keeps no more than the bound", () => {
    expect(() => split([Buffer.from(`${"a".repeat(11)}\n`)], 10)).toThrow(FrameTooLarge);
    expect(() => split([Buffer.from("a".repeat(6)), Buffer.from("a".repeat(6))], 10)).toThrow(/a watch line of at least 12 bytes is over the bound of 10/);
    expect(split([Buffer.from("a".repeat(5)), Buffer.from(`${"a".repeat(5)}\n`)], 10)).toEqual(["a".repeat(10)]);
  });
});
