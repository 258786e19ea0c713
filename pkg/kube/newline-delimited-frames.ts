// Splits a JSON watch stream into its lines, one event each. Lines wholly inside a chunk are
// handed out as views of it, uncopied; only a line that spans chunks is kept, copied, until its
// newline comes, and never past the bound: a line that grows over it ends the stream with an
// error instead of being buffered (the protobuf stream's frames are bounded the same way,
// length-delimited-frames.ts). A newline byte never occurs inside a UTF-8 sequence, so lines
// are cut on bytes and decoded whole.
import { FrameTooLarge, type FrameHandler } from "./length-delimited-frames.ts";

const NEWLINE = 0x0a;

export class NewlineDelimitedFrames {
  readonly #maxLineBytes: number;
  /** The line that spans chunks so far: copies of its pieces, and their total length. */
  #pieces: Buffer[] = [];
  #have = 0;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer, onLine: FrameHandler): void {
    let pos = 0;
    for (let nl = chunk.indexOf(NEWLINE, pos); nl !== -1; nl = chunk.indexOf(NEWLINE, pos)) {
      if (this.#have === 0) {
        this.#check(nl - pos);
        onLine(chunk, pos, nl);
      } else {
        this.#keep(chunk.subarray(pos, nl));
        this.#flush(onLine);
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) this.#keep(chunk.subarray(pos));
  }

  /** At the stream's end: the last line, when no newline followed it. */
  finish(onLine: FrameHandler): void {
    if (this.#have > 0) this.#flush(onLine);
  }

  #keep(piece: Buffer): void {
    this.#check(this.#have + piece.length);
    this.#pieces.push(Buffer.from(piece));
    this.#have += piece.length;
  }

  #flush(onLine: FrameHandler): void {
    const line = Buffer.concat(this.#pieces, this.#have);
    this.#pieces = [];
    this.#have = 0;
    onLine(line, 0, line.length);
  }

  #check(bytes: number): void {
    if (bytes > this.#maxLineBytes) throw new FrameTooLarge(`a watch line of at least ${bytes} bytes is over the bound of ${this.#maxLineBytes}`);
  }
}
