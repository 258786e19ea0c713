// Writes responses. dns2's Packet encodes each record set once, the first time it is served,
// and the bytes are kept with the set; a response is then the query's header and question
// copied, the cached record bytes appended, and an OPT record when the client sent one. The
// question is copied byte for byte, so it comes back exactly as asked, case included.
import { Packet, type Resource } from "dns2";
import type { Edns, Query } from "./query-decode.ts";
import { walkMessage } from "./message-walk.ts";
import { HEADER_SIZE } from "./query-decode.ts";
import { CLASS_IN, type DnsRecord, type Reply, type RRSet, TYPE } from "./records.ts";

/** Header fields a response copies from its query. */
export interface QueryHeader {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly cd: boolean;
  readonly edns: Edns | null;
}

export const UDP_PLAIN_LIMIT = 512;
export const TCP_LIMIT = 65535;
/**
 * The largest UDP response this server sends, and the size its OPT record advertises: 1232
 * (DNS Flag Day 2020), whatever larger size a client asks for, as CoreDNS and Unbound cap it.
 * A UDP answer goes to a source address nobody checked: this bounds what a forged query can
 * send its victim (amplification), and keeps answers below fragmentation.
 */
export const SERVER_UDP_SIZE = 1232;
const OPT_SIZE = 11;

/** The largest response the client gets over UDP: 512 without EDNS, its own size with, 512..1232. */
export function udpLimit(edns: Edns | null): number {
  return edns === null ? UDP_PLAIN_LIMIT : Math.min(SERVER_UDP_SIZE, Math.max(UDP_PLAIN_LIMIT, edns.udpSize));
}

interface EncodedSet {
  /** The owner name in wire form, null when it is the question's name. */
  readonly owner: Buffer | null;
  readonly ownerText: string | null;
  /** Each record after its owner name: type, class, TTL, length and data. */
  readonly tails: readonly Buffer[];
}

const encoded = new WeakMap<RRSet, EncodedSet>();

function encodeSet(set: RRSet): EncodedSet {
  let enc = encoded.get(set);
  if (enc === undefined) {
    enc = {
      owner: set.owner === null ? null : Packet.Name.encode(set.owner),
      ownerText: set.owner,
      tails: set.records.map(encodeTail),
    };
    encoded.set(set, enc);
  }
  return enc;
}

/** A record after its owner name. */
function encodeTail(record: DnsRecord): Buffer {
  if (record.type === "HINFO") {
    // dns2 has no HINFO codec. Its data is two character-strings, which is how TXT writes a
    // list of two; only the type differs.
    const txt = new Packet.Resource({ name: "", type: TYPE.TXT, class: CLASS_IN, ttl: record.ttl, data: [record.cpu, record.os] });
    const tail = Packet.Resource.encode(txt).subarray(1);
    tail.writeUInt16BE(TYPE.HINFO, 0);
    return tail;
  }
  // Encoded with the root as owner, whose one zero byte is then cut off.
  return Packet.Resource.encode(toResource(record)).subarray(1);
}

function toResource(record: Exclude<DnsRecord, { type: "HINFO" }>): Resource {
  const base = { name: "", type: TYPE[record.type], class: CLASS_IN, ttl: record.ttl };
  switch (record.type) {
    case "A":
    case "AAAA":
      return new Packet.Resource({ ...base, address: record.address });
    case "CNAME":
    case "PTR":
      return new Packet.Resource({ ...base, domain: record.target });
    case "NS":
      return new Packet.Resource({ ...base, ns: record.target });
    case "TXT":
      return new Packet.Resource({ ...base, data: [record.text] });
    case "SRV":
      return new Packet.Resource({
        ...base,
        priority: record.priority,
        weight: record.weight,
        port: record.port,
        target: record.target,
      });
    case "SOA":
      return new Packet.Resource({
        ...base,
        primary: record.primary,
        admin: record.admin,
        serial: record.serial,
        refresh: record.refresh,
        retry: record.retry,
        expiration: record.expire,
        minimum: record.minimum,
      });
  }
}

/**
 * Where an owner name can point into the question instead of being spelled out: at the
 * question itself, or at a suffix of it (the zone of an SOA). -1 when it cannot.
 */
function pointerFor(owner: string, query: Query): number {
  if (query.name.includes("\\")) return owner === query.name ? HEADER_SIZE : -1;
  if (owner === query.name) return HEADER_SIZE;
  if (owner !== "" && query.name.endsWith(`.${owner}`)) return HEADER_SIZE + query.name.length - owner.length;
  return -1;
}

interface Section {
  readonly count: number;
  readonly parts: Buffer[];
  readonly size: number;
}

function section(sets: readonly RRSet[], query: Query): Section {
  const parts: Buffer[] = [];
  let size = 0;
  let count = 0;
  for (const set of sets) {
    const enc = encodeSet(set);
    let owner: Buffer;
    const at = enc.ownerText === null ? HEADER_SIZE : pointerFor(enc.ownerText, query);
    if (at >= 0) owner = Buffer.from([0xc0 | (at >> 8), at & 0xff]);
    else owner = enc.owner ?? Buffer.from([0]);
    for (const tail of enc.tails) {
      parts.push(owner, tail);
      size += owner.length + tail.length;
      count++;
    }
  }
  return { count, parts, size };
}

function writeHeader(
  out: Buffer,
  header: QueryHeader,
  flags: { rcode: number; aa: boolean; tc: boolean; ra: boolean },
  counts: readonly [number, number, number, number],
): void {
  out.writeUInt16BE(header.id, 0);
  out[2] = 0x80 | (header.opcode << 3) | (flags.aa ? 0x04 : 0) | (flags.tc ? 0x02 : 0) | (header.rd ? 0x01 : 0);
  out[3] = (flags.ra ? 0x80 : 0) | (header.cd ? 0x10 : 0) | (flags.rcode & 0x0f);
  counts.forEach((c, i) => out.writeUInt16BE(c, 4 + i * 2));
}

/** The OPT record of a response: the UDP size agreed with the client (udpLimit), version 0, its DO bit. */
function writeOpt(out: Buffer, at: number, edns: Edns, rcode: number): void {
  out[at] = 0;
  out.writeUInt16BE(TYPE.OPT, at + 1);
  out.writeUInt16BE(udpLimit(edns), at + 3);
  out[at + 5] = (rcode >> 4) & 0xff;
  out[at + 6] = 0;
  out.writeUInt16BE(edns.dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
}

export interface EncodeOptions {
  /** Largest response allowed; past it only the question goes back, with TC set. */
  readonly limit: number;
  /** Set RA: whether this server recurses, i.e. forwards other names. */
  readonly recursionAvailable: boolean;
}

/** A full response to `query` (read from `msg`) carrying `reply`. */
export function encodeReply(msg: Uint8Array, query: Query, reply: Reply, options: EncodeOptions): Buffer {
  const an = section(reply.answer, query);
  const ns = section(reply.authority, query);
  const ar = section(reply.additional, query);
  const opt = query.edns === null ? 0 : OPT_SIZE;
  const size = query.questionEnd + an.size + ns.size + ar.size + opt;
  const flags = { rcode: reply.rcode, aa: reply.authoritative, tc: false, ra: options.recursionAvailable };
  if (size > options.limit) return encodeBare(msg, query, { ...flags, tc: true }, query.questionEnd);
  const out = Buffer.allocUnsafe(size);
  writeHeader(out, query, flags, [1, an.count, ns.count, ar.count + (opt > 0 ? 1 : 0)]);
  out.set(msg.subarray(HEADER_SIZE, query.questionEnd), HEADER_SIZE);
  let at = query.questionEnd;
  for (const part of [...an.parts, ...ns.parts, ...ar.parts]) {
    out.set(part, at);
    at += part.length;
  }
  if (query.edns !== null) writeOpt(out, at, query.edns, reply.rcode);
  return out;
}

/**
 * A response with no records: an error (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS) or a
 * truncated answer. The question is echoed when `questionEnd` says it could be read.
 */
export function encodeBare(
  msg: Uint8Array,
  header: QueryHeader,
  flags: { rcode: number; aa?: boolean; tc?: boolean; ra?: boolean },
  questionEnd: number,
): Buffer {
  const question = questionEnd > HEADER_SIZE ? questionEnd - HEADER_SIZE : 0;
  const opt = header.edns === null ? 0 : OPT_SIZE;
  const out = Buffer.allocUnsafe(HEADER_SIZE + question + opt);
  const full = { aa: false, tc: false, ra: false, ...flags };
  writeHeader(out, header, full, [question > 0 ? 1 : 0, 0, 0, opt > 0 ? 1 : 0]);
  if (question > 0) out.set(msg.subarray(HEADER_SIZE, questionEnd), HEADER_SIZE);
  if (header.edns !== null) writeOpt(out, HEADER_SIZE + question, header.edns, flags.rcode);
  return out;
}

/**
 * An upstream's response passed on to the client, with RA set since this server is the
 * client's recursive resolver: given the client's ID and its question as
 * asked (same length, so compression pointers still land), its OPT record swapped for the
 * client's own (or dropped when the client sent none), and cut to header and question with TC
 * set when it does not fit the client's limit. Null when the response does not answer the
 * client's question.
 */
export function relayResponse(response: Buffer, msg: Uint8Array, query: Query, limit: number): Buffer | null {
  const walked = walkMessage(response);
  if (walked === null) return null;
  const rcode = (response[3] ?? 0) & 0x0f;
  const ra = true;
  const aa = ((response[2] ?? 0) & 0x04) !== 0;
  if (walked.questionEnd === HEADER_SIZE) return encodeBare(msg, query, { rcode, ra, aa }, query.questionEnd);
  const asked = msg.subarray(HEADER_SIZE, query.questionEnd);
  if (!sameIgnoringCase(response.subarray(HEADER_SIZE, walked.questionEnd), asked)) return null;
  // Only a trailing OPT can be cut without moving a record something may point at.
  const last = walked.records[walked.records.length - 1];
  const optAt = walked.records.findIndex((r) => r.type === TYPE.OPT);
  const cut = last !== undefined && last.type === TYPE.OPT && optAt === walked.records.length - 1;
  const body = cut ? response.subarray(0, last.start) : response;
  const opt = query.edns === null ? 0 : OPT_SIZE;
  const size = body.length + (cut || optAt < 0 ? opt : 0);
  if (size > limit) return encodeBare(msg, query, { rcode, ra, aa, tc: true }, query.questionEnd);
  const out = Buffer.allocUnsafe(size);
  body.copy(out);
  out.writeUInt16BE(query.id, 0);
  out[3] = (out[3] ?? 0) | 0x80;
  out.set(asked, HEADER_SIZE);
  let arcount = out.readUInt16BE(10) - (cut ? 1 : 0);
  if (query.edns !== null && (cut || optAt < 0)) {
    writeOpt(out, body.length, query.edns, rcode);
    arcount++;
  }
  out.writeUInt16BE(arcount, 10);
  return out;
}

function sameIgnoringCase(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y && (x | 0x20) !== (y | 0x20)) return false;
    if (x !== y && ((x | 0x20) < 0x61 || (x | 0x20) > 0x7a)) return false;
  }
  return true;
}
