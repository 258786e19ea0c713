// Hostile DNS messages for the bad-input test against a running signpost-dns: random bytes,
// truncated and bit-flipped queries, 0xFFFF section counts, compression loops, oversize labels
// and names, odd OPT records. Drawn from a seeded generator, so a failing seed can be replayed.
import { seededRandom } from "./seeded-random.ts";

/** The name in wire form; labels are written as given, so oversize ones can be made on purpose. */
export function wireName(name: string): Buffer {
  const parts = name === "" ? [] : name.split(".").map((label) => Buffer.from(label, "latin1"));
  return Buffer.concat([...parts.flatMap((p) => [Buffer.from([p.length & 0xff]), p]), Buffer.from([0])]);
}

export interface WireQueryOptions {
  readonly id?: number;
  /** Adds an OPT record with this UDP payload size. */
  readonly udpSize?: number;
  readonly ednsVersion?: number;
}

/** A well-formed query with one question and RD set. */
export function wireQuery(name: string, qtype: number, options: WireQueryOptions = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x4242, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(qtype, 0);
  tail.writeUInt16BE(1, 2);
  const parts = [header, wireName(name), tail];
  if (options.udpSize !== undefined) {
    header.writeUInt16BE(1, 10);
    parts.push(optRecord(options.udpSize, options.ednsVersion ?? 0));
  }
  return Buffer.concat(parts);
}

function optRecord(udpSize: number, version: number, rdata: Buffer = Buffer.alloc(0)): Buffer {
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(41, 1);
  opt.writeUInt16BE(udpSize & 0xffff, 3);
  opt[6] = version & 0xff;
  opt.writeUInt16BE(rdata.length, 9);
  return Buffer.concat([opt, rdata]);
}

/** One DNS message framed for TCP: a two-byte length, then the message. */
export function tcpFrame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

export const FUZZ_KINDS = [
  "random",
  "truncated",
  "counts-0xffff",
  "compression-loop",
  "oversize-label",
  "oversize-name",
  "bit-flip",
  "odd-opt",
  "response",
] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

export interface FuzzCorpus {
  /** The next hostile message and what kind it is. */
  next(): { readonly kind: FuzzKind; readonly message: Buffer };
}

/**
 * Hostile messages around the names in `names` (real cluster names, so a mutated query often
 * still reaches the store, the answer cache and the forwarder). Kinds are taken in turn.
 */
export function fuzzCorpus(seed: number, names: readonly string[]): FuzzCorpus {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  const types = [1, 28, 33, 12, 16, 6, 2, 5, 255, 252, 251, 41, 0, 65535];
  const valid = () =>
    wireQuery(names[int(names.length)] ?? "a.cluster.local", types[int(types.length)] ?? 1, {
      id: int(0x10000),
      ...(rand() < 0.5 ? { udpSize: int(0x10000), ednsVersion: rand() < 0.9 ? 0 : int(256) } : {}),
    });
  const header = (counts: readonly [number, number, number, number]) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(int(0x10000), 0);
    h.writeUInt16BE(0x0100, 2);
    counts.forEach((c, i) => h.writeUInt16BE(c, 4 + i * 2));
    return h;
  };
  const question = (name: Buffer) => Buffer.concat([name, Buffer.from([0, 1, 0, 1])]);

  const makers: Record<FuzzKind, () => Buffer> = {
    random: () => bytes(int(rand() < 0.05 ? 4096 : 300)),
    truncated: () => {
      const q = valid();
      return q.subarray(0, int(q.length));
    },
    "counts-0xffff": () => {
      const q = valid();
      const which = int(5);
      for (let i = 0; i < 4; i++) if (which === 4 || which === i) q.writeUInt16BE(0xffff, 4 + i * 2);
      return q;
    },
    "compression-loop": () => {
      switch (int(4)) {
        case 0: // the question's name points at itself
          return Buffer.concat([header([1, 0, 0, 0]), question(Buffer.from([0xc0, 12]))]);
        case 1: // a label, then a pointer back to the start of the name
          return Buffer.concat([header([1, 0, 0, 0]), question(Buffer.from([1, 0x61, 0xc0, 12]))]);
        case 2: {
          // a valid question, then records whose owners point at each other
          const q = wireQuery(names[int(names.length)] ?? "a", 1);
          const at = q.length;
          const rr = (pointTo: number) => Buffer.from([0xc0 | (pointTo >> 8), pointTo & 0xff, 0, 1, 0, 1, 0, 0, 0, 5, 0, 0]);
          const out = Buffer.concat([q, rr(at + 12), rr(at)]);
          out.writeUInt16BE(2, 6);
          return out;
        }
        default: {
          // a record whose owner and data are pointer chains, in every section
          const q = wireQuery(names[int(names.length)] ?? "a", 33);
          const at = q.length;
          const data = Buffer.from([0, 0, 0, 0, 0, 80, 0xc0, at & 0xff]);
          const rr = Buffer.concat([Buffer.from([0xc0 | (at >> 8), at & 0xff, 0, 33, 0, 1, 0, 0, 0, 5, 0, data.length]), data]);
          const out = Buffer.concat([q, rr, rr, rr]);
          out.writeUInt16BE(1, 6);
          out.writeUInt16BE(1, 8);
          out.writeUInt16BE(1, 10);
          return out;
        }
      }
    },
    "oversize-label": () => {
      const length = 64 + int(192); // 64..255: too long, or a reserved label type
      const label = Buffer.concat([Buffer.from([length]), bytes(int(2) === 0 ? length : int(length))]);
      return Buffer.concat([header([1, 0, 0, 0]), question(Buffer.concat([label, wireName("svc.cluster.local")]))]);
    },
    "oversize-name": () => {
      // 63-octet labels past 255 octets in all, or 1-octet labels one past the limit.
      const labels = int(2) === 0 ? Array.from({ length: 5 + int(4) }, () => "x".repeat(63)) : Array.from({ length: 128 + int(64) }, () => "y");
      return Buffer.concat([header([1, 0, 0, 0]), question(wireName(`${labels.join(".")}.cluster.local`))]);
    },
    "bit-flip": () => {
      const q = valid();
      for (let n = 1 + int(6); n > 0; n--) {
        const at = int(q.length);
        q[at] = (q[at] ?? 0) ^ (1 << int(8));
      }
      return q;
    },
    "odd-opt": () => {
      const q = wireQuery(names[int(names.length)] ?? "a", 1);
      const variants = [
        optRecord(0, 0), // a UDP size of 0
        optRecord(65535, 255), // the highest version
        optRecord(4096, 0, bytes(int(64))), // random options
        Buffer.concat([optRecord(4096, 0), optRecord(512, 0)]), // two OPT records
        Buffer.concat([Buffer.from([3, 0x61, 0x62, 0x63]), optRecord(4096, 0).subarray(1)]), // an owner other than the root
      ];
      const opt = variants[int(variants.length)] ?? optRecord(0, 0);
      const out = Buffer.concat([q, opt]);
      // The record count says one, two or a lie; an OPT in the answer section now and then.
      out.writeUInt16BE(int(3), 10);
      if (int(4) === 0) out.writeUInt16BE(1, 6);
      const lie = int(4) === 0;
      if (lie) out.writeUInt16BE(0xfff0, out.length - 2);
      return out;
    },
    response: () => {
      const q = valid();
      q[2] = (q[2] ?? 0) | 0x80;
      return q;
    },
  };
  let turn = 0;
  return {
    next: () => {
      const kind = FUZZ_KINDS[turn++ % FUZZ_KINDS.length] ?? "random";
      return { kind, message: makers[kind]() };
    },
  };
}
