// Splits a TCP byte stream into DNS messages, each behind a two-byte length (RFC 1035 4.2.2).
// Work is linear in the bytes received however they are cut up: a client that sends a frame
// one byte at a time costs one copy per byte, not a copy of everything so far, and a frame's
// buffer grows with what has arrived rather than with the length it claims. The consumer may
// stop the reader between two frames (its answers are piling up): the rest of the chunk is held,
// unparsed, until it resumes, so one chunk of small queries cannot produce unbounded answers.

/** The first allocation for a frame that arrives in pieces; most queries fit in it. */
const INITIAL_CAPACITY = 512;

export interface FrameReader {
  /** Feeds the stream's next chunk. */
  push(chunk: Buffer): void;
  /** Goes on with the bytes held since `onFrame` asked to stop; it may stop again. */
  resume(): void;
  /** Bytes of the stream are held unparsed because `onFrame` asked to stop. */
  readonly holding: boolean;
  /** A frame has begun to arrive and is not complete: the client owes the rest of it. */
  readonly midFrame: boolean;
}

/**
 * Calls `onFrame` with each complete message, in order, as a Buffer of its own (it pins no read
 * buffer). A length of 0 gives an empty message. When `onFrame` returns false the reader stops
 * after that frame and holds what is left of the chunk until `resume`.
 */
export function frameReader(onFrame: (frame: Buffer) => boolean | void): FrameReader {
  /** -1 while the length is unknown; with one byte of the length read, that byte is in `high`. */
  let expected = -1;
  let high = -1;
  let frame: Buffer | null = null;
  let filled = 0;
  /** What is left of a chunk after `onFrame` asked to stop (a view: it pins that one chunk). */
  let held: Buffer | null = null;

  /** Hands a finished frame on; false when the consumer asked to stop. */
  const deliver = (message: Buffer): boolean => {
    expected = -1;
    return onFrame(message) !== false;
  };

  const consume = (chunk: Buffer): void => {
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
          if (!deliver(message)) break;
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
        if (!deliver(message)) break;
      }
    }
    held = at < chunk.length ? chunk.subarray(at) : null;
  };

  return {
    push(chunk) {
      // Only a consumer that ignored its own stop pushes while holding; keep the order anyway.
      if (held !== null) consume(Buffer.concat([held, chunk]));
      else consume(chunk);
    },
    resume() {
      if (held !== null) consume(held);
    },
    get holding() {
      return held !== null;
    },
    get midFrame() {
      return expected >= 0 || high >= 0;
    },
  };
}
