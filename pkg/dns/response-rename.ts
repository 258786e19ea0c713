// Rewrites a response's names for a rewritten question: the question goes back to the client's
// own bytes and each answer record's owner name through `rename`. Names change length, so
// compression pointers cannot stay: the message is written again with every name spelled out
// (the owner names, and the names inside the RDATA of the types that carry them). A response
// that then no longer fits the client's limit is cut to its question with TC set, as any other.
import { HEADER_SIZE } from "./query-decode.ts";
import { TYPE } from "./records.ts";

/** RDATA layouts that hold names: fixed octets before, names, fixed octets after. */
const NAMED_RDATA: ReadonlyMap<number, { readonly before: number; readonly names: number }> = new Map([
  [TYPE.CNAME, { before: 0, names: 1 }],
  [TYPE.NS, { before: 0, names: 1 }],
  [TYPE.PTR, { before: 0, names: 1 }],
  [39 /* DNAME */, { before: 0, names: 1 }],
  [15 /* MX */, { before: 2, names: 1 }],
  [TYPE.SRV, { before: 6, names: 1 }],
  [TYPE.SOA, { before: 0, names: 2 }],
]);

/** A compression pointer to the question's name, right after the header. */
const QUESTION_POINTER = Buffer.from([0xc0, HEADER_SIZE]);

/** The labels of the name at `offset` and the offset just past it; null when malformed. */
function readName(msg: Buffer, offset: number): { labels: Buffer[]; end: number } | null {
  const labels: Buffer[] = [];
  let at = offset;
  let end = -1;
  let octets = 1;
  for (let hops = 0; hops < 64; ) {
    const length = msg[at];
    if (length === undefined) return null;
    if ((length & 0xc0) === 0xc0) {
      const next = msg[at + 1];
      if (next === undefined) return null;
      if (end < 0) end = at + 2;
      at = ((length & 0x3f) << 8) | next;
      hops++;
      continue;
    }
    if ((length & 0xc0) !== 0) return null;
    if (length === 0) return { labels, end: end < 0 ? at + 1 : end };
    octets += length + 1;
    if (octets > 255 || at + 1 + length > msg.length) return null;
    labels.push(msg.subarray(at + 1, at + 1 + length));
    at += length + 1;
  }
  return null;
}

function labelsText(labels: readonly Buffer[]): string {
  return labels.map((l) => l.toString("latin1").toLowerCase()).join(".");
}

function nameBytes(text: string): Buffer {
  if (text === "") return Buffer.from([0]);
  const parts = text.split(".").flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, "latin1")]);
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function labelsBytes(labels: readonly Buffer[]): Buffer {
  return Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
}

/**
 * `response` with the client's question (`question`: bytes 12..questionEnd of the client's
 * message) and answer owners renamed; null when the response cannot be read. `rename` gives
 * null for the question's own name, written as a pointer to it so the client's spelling stays.
 * `limit` is the client's largest response.
 */
export function renameResponse(response: Buffer, question: Buffer, rename: (owner: string) => string | null, limit: number): Buffer | null {
  if (response.length < HEADER_SIZE) return null;
  const counts = [response.readUInt16BE(4), response.readUInt16BE(6), response.readUInt16BE(8), response.readUInt16BE(10)];
  let at = HEADER_SIZE;
  if (counts[0] === 1) {
    const q = readName(response, at);
    if (q === null || q.end + 4 > response.length) return null;
    at = q.end + 4;
  } else if (counts[0] !== 0) return null;
  const parts: Buffer[] = [];
  const records = (counts[1] ?? 0) + (counts[2] ?? 0) + (counts[3] ?? 0);
  for (let i = 0; i < records; i++) {
    const owner = readName(response, at);
    if (owner === null || owner.end + 10 > response.length) return null;
    const fixed = response.subarray(owner.end, owner.end + 10);
    const type = fixed.readUInt16BE(0);
    const rdStart = owner.end + 10;
    const rdEnd = rdStart + fixed.readUInt16BE(8);
    if (rdEnd > response.length) return null;
    const renamed = i < (counts[1] ?? 0) ? rename(labelsText(owner.labels)) : undefined;
    const ownerOut = renamed === undefined ? labelsBytes(owner.labels) : renamed === null ? QUESTION_POINTER : nameBytes(renamed);
    const rdata = spellRdata(response, type, rdStart, rdEnd);
    if (rdata === null) return null;
    const head = Buffer.from(fixed);
    head.writeUInt16BE(rdata.length, 8);
    parts.push(ownerOut, head, rdata);
    at = rdEnd;
  }
  const header = Buffer.from(response.subarray(0, HEADER_SIZE));
  header.writeUInt16BE(1, 4);
  const size = HEADER_SIZE + question.length + parts.reduce((n, p) => n + p.length, 0);
  if (size > limit) {
    // Only the question, TC set: the client asks again over TCP. An OPT record is dropped with the rest.
    header[2] = (header[2] ?? 0) | 0x02;
    header.fill(0, 6, 12);
    return Buffer.concat([header, question]);
  }
  return Buffer.concat([header, question, ...parts], size);
}

/** RDATA with its names spelled out; copied as it is for types without names. */
function spellRdata(msg: Buffer, type: number, start: number, end: number): Buffer | null {
  const layout = NAMED_RDATA.get(type);
  if (layout === undefined) return msg.subarray(start, end);
  const parts: Buffer[] = [msg.subarray(start, start + layout.before)];
  let at = start + layout.before;
  for (let i = 0; i < layout.names; i++) {
    const name = readName(msg, at);
    if (name === null || name.end > end) return null;
    parts.push(labelsBytes(name.labels));
    at = name.end;
  }
  parts.push(msg.subarray(at, end));
  return Buffer.concat(parts);
}

/** The client's message asking for `name` instead: header, new question name, the rest as it was. */
export function withQuestionName(message: Buffer, nameEnd: number, name: string): Buffer {
  return Buffer.concat([message.subarray(0, HEADER_SIZE), nameBytes(name), message.subarray(nameEnd)]);
}
