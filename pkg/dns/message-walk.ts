// Finds where each record of a DNS message starts and where its TTL sits, without decoding
// it: enough for the forwarding path to age TTLs in cached answers and to swap OPT records,
// at the cost of one bounded pass. Pointers are skipped, never followed.

export interface WalkedRecord {
  /** 0 answer, 1 authority, 2 additional. */
  readonly section: 0 | 1 | 2;
  readonly start: number;
  readonly type: number;
  /** Offset of the 32-bit TTL; RDATA starts 6 bytes after it. */
  readonly ttlAt: number;
  readonly end: number;
}

export interface WalkedMessage {
  /** Offset just past the question (12 when there is none). */
  readonly questionEnd: number;
  readonly records: readonly WalkedRecord[];
}

/** Offset just past the name at `offset`, or -1 when it runs off the message or is malformed. */
export function skipName(msg: Uint8Array, offset: number): number {
  let at = offset;
  let octets = 1;
  for (;;) {
    const length = msg[at];
    if (length === undefined) return -1;
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2 <= msg.length ? at + 2 : -1;
    if ((length & 0xc0) !== 0) return -1;
    octets += length + 1;
    if (octets > 255) return -1;
    at += length + 1;
  }
}

/** The layout of a message with at most one question; null when anything runs off the end. */
export function walkMessage(msg: Uint8Array): WalkedMessage | null {
  if (msg.length < 12) return null;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const qdcount = view.getUint16(4);
  if (qdcount > 1) return null;
  let offset = 12;
  if (qdcount === 1) {
    offset = skipName(msg, offset);
    if (offset < 0 || offset + 4 > msg.length) return null;
    offset += 4;
  }
  const questionEnd = offset;
  const counts = [view.getUint16(6), view.getUint16(8), view.getUint16(10)] as const;
  const records: WalkedRecord[] = [];
  for (const section of [0, 1, 2] as const) {
    for (let i = 0; i < counts[section]; i++) {
      const start = offset;
      const nameEnd = skipName(msg, offset);
      if (nameEnd < 0 || nameEnd + 10 > msg.length) return null;
      const end = nameEnd + 10 + view.getUint16(nameEnd + 8);
      if (end > msg.length) return null;
      records.push({ section, start, type: view.getUint16(nameEnd), ttlAt: nameEnd + 4, end });
      offset = end;
    }
  }
  return { questionEnd, records };
}

/**
 * Whether the names at offsets `a` and `b` are the same, ignoring ASCII case, following
 * compression pointers (at most 64 hops each, so a pointer loop ends as a mismatch).
 */
export function sameName(msg: Uint8Array, a: number, b: number): boolean {
  let x = a;
  let y = b;
  for (let hops = 0; hops < 64; ) {
    const lx = msg[x];
    const ly = msg[y];
    if (lx === undefined || ly === undefined) return false;
    if ((lx & 0xc0) === 0xc0 || (ly & 0xc0) === 0xc0) {
      // A pointer: jump to where it points, then compare from there.
      if ((lx & 0xc0) === 0xc0) x = ((lx & 0x3f) << 8) | (msg[x + 1] ?? 0);
      if ((ly & 0xc0) === 0xc0) y = ((ly & 0x3f) << 8) | (msg[y + 1] ?? 0);
      hops++;
      continue;
    }
    if ((lx & 0xc0) !== 0 || lx !== ly) return false;
    if (lx === 0) return true;
    if (x + lx >= msg.length || y + lx >= msg.length) return false;
    for (let i = 1; i <= lx; i++) {
      const cx = msg[x + i] ?? 0;
      const cy = msg[y + i] ?? 0;
      if (cx !== cy && !((cx | 0x20) === (cy | 0x20) && (cx | 0x20) >= 0x61 && (cx | 0x20) <= 0x7a)) return false;
    }
    x += lx + 1;
    y += ly + 1;
  }
  return false;
}
