// Reads a DNS query off the wire without a general codec: the header, the one question and the
// OPT record, with every length checked against the buffer, so a hostile packet costs at most
// one pass over its own bytes. Names in the question may not use compression: a pointer there
// could only point into the header, so it is refused and loops cannot happen.
import { randomInt } from "node:crypto";
import { TYPE } from "./records.ts";

export interface Edns {
  /** The requestor's UDP payload size, from the OPT record's class. */
  readonly udpSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
}

export interface Query {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly cd: boolean;
  /** Lower-case, dot-separated, no trailing dot, "" for the root; a "." or "\" inside a label is escaped with "\". */
  readonly name: string;
  /** A 32-bit hash of `name`, seeded afresh in each process, for the answer cache's key. */
  readonly nameHash: number;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just past the question: bytes 12..questionEnd are echoed in the answer. */
  readonly questionEnd: number;
  /** Offset just past the question's name, which is also its wire length plus 12. */
  readonly nameEnd: number;
  readonly edns: Edns | null;
}

export type Decoded =
  | { readonly ok: true; readonly query: Query }
  /** Not worth an answer: too short for a header, or itself a response. */
  | { readonly ok: false; readonly action: "drop" }
  | {
      readonly ok: false;
      readonly action: "formerr" | "notimp";
      readonly id: number;
      readonly opcode: number;
      readonly rd: boolean;
      readonly cd: boolean;
      /** 0 when the question could not be read; otherwise it is echoed. */
      readonly questionEnd: number;
      readonly edns: Edns | null;
    };

export const HEADER_SIZE = 12;
const MAX_NAME = 255;

export function decodeQuery(msg: Uint8Array): Decoded {
  if (msg.length < HEADER_SIZE) return { ok: false, action: "drop" };
  const flags = msg[2] ?? 0;
  if ((flags & 0x80) !== 0) return { ok: false, action: "drop" };
  const id = ((msg[0] ?? 0) << 8) | (msg[1] ?? 0);
  const opcode = (flags >> 3) & 0x0f;
  const rd = (flags & 0x01) !== 0;
  const cd = ((msg[3] ?? 0) & 0x10) !== 0;
  const count = (at: number) => ((msg[at] ?? 0) << 8) | (msg[at + 1] ?? 0);
  const [qdcount, ancount, nscount, arcount] = [count(4), count(6), count(8), count(10)];
  const fail = (action: "formerr" | "notimp", questionEnd = 0, edns: Edns | null = null): Decoded => ({
    ok: false,
    action,
    id,
    opcode,
    rd,
    cd,
    questionEnd,
    edns,
  });
  if (opcode !== 0) return fail("notimp");
  // A query has one question and, at most, a record or two around it (OPT, a TSIG, a cookie
  // in an update); larger counts are refused before any is read, like miekg/dns does.
  if (qdcount !== 1 || ancount > 1 || nscount > 1 || arcount > 2) return fail("formerr");

  const name = readQuestionName(msg);
  if (name === null) return fail("formerr");
  const nameEnd = name.end;
  if (nameEnd + 4 > msg.length) return fail("formerr");
  const qtype = count(nameEnd);
  const qclass = count(nameEnd + 2);
  const questionEnd = nameEnd + 4;

  let offset = questionEnd;
  let edns: Edns | null = null;
  const records = ancount + nscount + arcount;
  for (let i = 0; i < records; i++) {
    const rr = readRecordHeader(msg, offset);
    if (rr === null) return fail("formerr", questionEnd);
    if (rr.type === TYPE.OPT) {
      const inAdditional = i >= ancount + nscount;
      if (!inAdditional || edns !== null || !rr.rootOwner) return fail("formerr", questionEnd);
      edns = { udpSize: rr.class, version: (rr.ttl >>> 16) & 0xff, dnssecOk: (rr.ttl & 0x8000) !== 0 };
    }
    offset = rr.end;
  }
  return {
    ok: true,
    query: { id, opcode, rd, cd, name: name.text, nameHash: name.hash, qtype, qclass, questionEnd, nameEnd, edns },
  };
}

/**
 * The question's name is written here, dotted, lower-cased and escaped, and read back as one
 * string: appending a character at a time made a string object per character, most of what a
 * query allocated. A name of 255 wire bytes has at most 254 characters, each escaped at most once.
 */
const nameText = Buffer.allocUnsafe(2 * MAX_NAME);

/**
 * FNV-1a over the name's text, from a basis drawn at start: the hash costs a multiply per
 * character while the name is read anyway, and a pod cannot work out offline which names
 * collide in this process's answer cache.
 */
const HASH_BASIS = randomInt(2 ** 32 - 1) >>> 0;

/** One step of FNV-1a: `value` folded into `hash`. */
export function fnvStep(hash: number, value: number): number {
  return Math.imul(hash ^ value, 0x01000193);
}

function readQuestionName(msg: Uint8Array): { text: string; hash: number; end: number } | null {
  let offset = HEADER_SIZE;
  let written = 0;
  let wire = 1;
  let hash = HASH_BASIS;
  for (;;) {
    const length = msg[offset];
    if (length === undefined) return null;
    offset++;
    if (length === 0) break;
    // 0xC0 is a pointer, 0x40 and 0x80 are reserved label types (RFC 6891 retired them).
    if ((length & 0xc0) !== 0) return null;
    wire += length + 1;
    if (wire > MAX_NAME || offset + length > msg.length) return null;
    if (written > 0) {
      nameText[written++] = 0x2e;
      hash = fnvStep(hash, 0x2e);
    }
    for (let i = offset; i < offset + length; i++) {
      let c = msg[i] ?? 0;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c === 0x2e || c === 0x5c) {
        nameText[written++] = 0x5c;
        hash = fnvStep(hash, 0x5c);
      }
      nameText[written++] = c;
      hash = fnvStep(hash, c);
    }
    offset += length;
  }
  return { text: nameText.toString("latin1", 0, written), hash: hash >>> 0, end: offset };
}

interface RecordHeader {
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rootOwner: boolean;
  readonly end: number;
}

/** Skips one resource record, following no pointer; null when it runs past the message. */
function readRecordHeader(msg: Uint8Array, start: number): RecordHeader | null {
  let offset = start;
  let wire = 1;
  for (;;) {
    const length = msg[offset];
    if (length === undefined) return null;
    if (length === 0) {
      offset++;
      break;
    }
    if ((length & 0xc0) === 0xc0) {
      offset += 2;
      break;
    }
    if ((length & 0xc0) !== 0) return null;
    wire += length + 1;
    if (wire > MAX_NAME) return null;
    offset += length + 1;
  }
  if (offset + 10 > msg.length) return null;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const rdlength = view.getUint16(offset + 8);
  const end = offset + 10 + rdlength;
  if (end > msg.length) return null;
  return {
    type: view.getUint16(offset),
    class: view.getUint16(offset + 2),
    ttl: view.getUint32(offset + 4),
    rootOwner: offset === start + 1,
    end,
  };
}
