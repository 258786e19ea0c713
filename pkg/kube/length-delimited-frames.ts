// Splits a protobuf watch stream into its frames: each is a 4-byte big-endian length, then that
// many bytes (apimachinery's LengthDelimitedFramer). Frames wholly inside a chunk are handed out
// as views of it, uncopied; only a frame that spans chunks is assembled, in a buffer of exactly
// its size. A length over the bound ends the stream with an error rather than buffering it.

export class FrameTooLarge extends Error {}

export type FrameHandler = (buf: Buffer, start: number, end: number) => void;

export class LengthDelimitedFrames {
  readonly #maxFrameBytes: number;
  /** The bytes of a length prefix split across chunks. */
  readonly #header = Buffer.alloc(4);
  #headerHave = 0;
  /** The frame being assembled across chunks, and how much of it has arrived. */
  #frame: Buffer | null = null;
  #frameHave = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Whether the stream stopped in the middle of a frame. */
  get midFrame(): boolean {
    return this.#headerHave > 0 || this.#frame !== null;
  }

  /** At the stream's end: an error when it stopped inside a frame. */
  finish(): void {
    if (this.midFrame) throw new Error("the watch stream ended in the middle of a frame");
  }

  push(chunk: Buffer, onFrame: FrameHandler): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.#frame !== null) {
        const n = Math.min(this.#frame.length - this.#frameHave, end - pos);
        chunk.copy(this.#frame, this.#frameHave, pos, pos + n);
        this.#frameHave += n;
        pos += n;
        if (this.#frameHave === this.#frame.length) {
          const frame = this.#frame;
          this.#frame = null;
          onFrame(frame, 0, frame.length);
        }
        continue;
      }
      let length: number;
      if (this.#headerHave === 0 && end - pos >= 4) {
        length = chunk.readUInt32BE(pos);
        pos += 4;
      } else {
        const n = Math.min(4 - this.#headerHave, end - pos);
        chunk.copy(this.#header, this.#headerHave, pos, pos + n);
        this.#headerHave += n;
        pos += n;
        if (this.#headerHave < 4) return;
        this.#headerHave = 0;
        length = this.#header.readUInt32BE(0);
      }
      if (length > this.#maxFrameBytes) {
        throw new FrameTooLarge(`a watch frame of ${length} bytes is over the bound of ${this.#maxFrameBytes}`);
      }
      if (end - pos >= length) {
        onFrame(chunk, pos, pos + length);
        pos += length;
      } else {
        this.#frame = Buffer.allocUnsafe(length);
        this.#frameHave = 0;
      }
    }
  }
}
