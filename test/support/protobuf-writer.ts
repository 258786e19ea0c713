// Writes protocol-buffers bytes for unit tests of the decoder: fields are given by number and
// wire type explicitly, so a test can also write what no encoder would (wrong wire types,
// truncations, unknown fields).

export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Buffer.from(out);
}

/** A varint field (ints, bools). */
export function int(field: number, value: number | bigint | boolean): Buffer {
  return Buffer.concat([varint(field * 8), varint(typeof value === "boolean" ? (value ? 1 : 0) : value)]);
}

/** A length-delimited field: a string, bytes, or a nested message (the concatenation of its fields). */
export function bytes(field: number, ...content: (Buffer | string)[]): Buffer {
  const body = Buffer.concat(content.map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c)));
  return Buffer.concat([varint(field * 8 + 2), varint(body.length), body]);
}

export function fixed32(field: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return Buffer.concat([varint(field * 8 + 5), b]);
}

export function fixed64(field: number): Buffer {
  return Buffer.concat([varint(field * 8 + 1), Buffer.alloc(8)]);
}

/** A map<string,string> field: one entry message per pair. */
export function map(field: number, entries: Readonly<Record<string, string>>): Buffer {
  return Buffer.concat(Object.entries(entries).map(([k, v]) => bytes(field, bytes(1, k), bytes(2, v))));
}

/** An object as the API server encodes it: "k8s\0" and a runtime.Unknown. */
export function envelope(apiVersion: string, kind: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), bytes(1, bytes(1, apiVersion), bytes(2, kind)), bytes(2, body)]);
}

/** A metav1.WatchEvent frame, its length prefix not included. */
export function watchEvent(type: string, object: Buffer): Buffer {
  return Buffer.concat([bytes(1, type), bytes(2, bytes(1, object))]);
}

/** A frame of a length-delimited stream: 4-byte big-endian length, then the bytes. */
export function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}
