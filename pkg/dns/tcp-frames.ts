// Splits a TCP byte stream into DNS messages, each behind a two-byte length (RFC 1035 4.2.2).
// Work is linear in the bytes received however they are cut up: a client that sends a frame
// one byte at a time costs one copy per byte, not a copy of everything so far, and a frame's
// buffer grows with what has arrived rather than with the length it claims.

/** The first allocation for a frame that arrives in pieces; most queries fit in it. */
const INITIAL_CAPACITY = 512;

export type FrameReader = (chunk: Buffer) => void;

/**
 * Returns a function to feed with the stream's chunks; it calls `onFrame` with each complete
 * message, in order, as a Buffer of its own (it pins no read buffer). A length of 0 gives an
 * empty message.
 */
export function frameReader(onFrame: (frame: Buffer) => void): FrameReader {
  /** -1 while the length is unknown; with one byte of the length read, that byte is in `high`. */
  let expected = -1;
  let high = -1;
  let frame: Buffer | null = null;
  let filled = 0;

  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (expected < 0) {
        const first = chunk[at] ?? 0;
        if (high < 0 && chunk.length - at >= 2) {
          expected = (first << 8) | (chunk[at + 1] ?? 0);
          at += 2;
        } else if (high < 0) {
          high = first;
          at++;
          continue;
        } else {
          expected = (high << 8) | first;
          high = -1;
          at++;
        }
        if (chunk.length - at >= expected) {
          // The whole message is here: one copy, and on to the next.
          const message = Buffer.allocUnsafe(expected);
          chunk.copy(message, 0, at, at + expected);
          at += expected;
          expected = -1;
          onFrame(message);
          continue;
        }
        frame = Buffer.allocUnsafe(Math.min(expected, Math.max(INITIAL_CAPACITY, chunk.length - at)));
        filled = 0;
      }
      if (frame === null) break;
      const take = Math.min(expected - filled, chunk.length - at);
      if (filled + take > frame.length) {
        const grown = Buffer.allocUnsafe(Math.min(expected, Math.max(frame.length * 2, filled + take)));
        frame.copy(grown, 0, 0, filled);
        frame = grown;
      }
      chunk.copy(frame, filled, at, at + take);
      filled += take;
      at += take;
      if (filled === expected) {
        const message = frame;
        frame = null;
        expected = -1;
        onFrame(message);
      }
    }
  };
}
