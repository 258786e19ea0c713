// Reads the protocol-buffers wire format, the part of it Kubernetes' objects use: varints
// (ints, bools, enums written as strings elsewhere), length-delimited fields (strings, bytes,
// nested messages, map entries) and, only to skip them, fixed 32- and 64-bit fields. Every read
// is bounds-checked: a truncated or corrupt message throws MalformedProtobuf, saying where.

export class MalformedProtobuf extends Error {}

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class ProtobufReader {
  readonly buf: Buffer;
  pos: number;
  /** Where the message being read ends; narrowed while a nested message is read. */
  end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's tag: its number times 8 plus its wire type. */
  tag(): number {
    return this.varint();
  }

  /**
   * An unsigned varint as a number: exact up to 2^53, which covers every length and every
   * non-negative int64 an API object holds. Negative int32s are 10-byte varints; int32() reads them.
   */
  varint(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new MalformedProtobuf(`varint truncated at byte ${pos}`);
      const b = buf[pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    throw new MalformedProtobuf(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** An int32 field: the low 32 bits of its varint, signed (a negative one is 10 bytes long). */
  int32(): number {
    const start = this.pos;
    const value = this.varint();
    if (value < 2 ** 31) return value;
    if (value < 2 ** 32) return value | 0;
    let low = 0;
    for (let i = 0; i < 5; i++) low += ((this.buf[start + i] as number) & 0x7f) * 128 ** i;
    return (low % 2 ** 32) | 0;
  }

  /** The byte range of a length-delimited field (a `what`, for the error); the reader moves past it. */
  bytes(what = "field"): { start: number; end: number } {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new MalformedProtobuf(`${what} of ${length} bytes at byte ${start} runs past the message's end (${this.end})`);
    this.pos = start + length;
    return { start, end: this.pos };
  }

  string(): string {
    const { start, end } = this.bytes("string");
    return start === end ? "" : this.buf.toString("utf8", start, end);
  }

  /** Moves past a field of this wire type that is not read. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE.varint:
        this.varint();
        return;
      case WIRE.fixed64:
        this.#advance(8);
        return;
      case WIRE.bytes:
        this.bytes();
        return;
      case WIRE.fixed32:
        this.#advance(4);
        return;
      default:
        throw new MalformedProtobuf(`wire type ${wireType} at byte ${this.pos} is not one Kubernetes uses`);
    }
  }

  #advance(n: number): void {
    if (n > this.end - this.pos) throw new MalformedProtobuf(`fixed field truncated at byte ${this.pos}`);
    this.pos += n;
  }
}
