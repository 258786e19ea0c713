// Query builders and a response reader for the DNS tests, on dns2's codec, so the tests check
// signpost's bytes with a decoder that is not signpost's own.
import { Packet, type Resource } from "dns2";
import type { Answer } from "../answer.ts";
import type { ForwardRequest, Transport } from "../query-handler.ts";
import type { DnsRecord, RRSet } from "../records.ts";

export interface QueryOptions {
  readonly id?: number;
  readonly rd?: boolean;
  /** Add an OPT record with this UDP payload size. */
  readonly udpSize?: number;
  readonly ednsVersion?: number;
  readonly qclass?: number;
}

export function queryBytes(name: string, type: number, options: QueryOptions = {}): Buffer {
  const packet = new Packet();
  packet.header.id = options.id ?? 0x1234;
  packet.header.rd = options.rd === false ? 0 : 1;
  packet.questions.push(new Packet.Question(name, type, options.qclass ?? Packet.CLASS.IN));
  if (options.udpSize !== undefined) {
    packet.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: options.udpSize, version: options.ednsVersion }));
  }
  return packet.toBuffer();
}

export interface ForwardRequestOptions {
  readonly qtype?: number;
  readonly transport?: Transport;
  readonly dnssecOk?: boolean;
  readonly cd?: boolean;
}

/** What the query handler hands the forwarder for a query of `name` (type A unless given). */
export function forwardRequest(name: string, options: ForwardRequestOptions = {}): ForwardRequest {
  const qtype = options.qtype ?? Packet.TYPE.A;
  const message = queryBytes(name, qtype);
  const request = { message, question: message.subarray(12), name: name.toLowerCase(), qtype, qclass: 1, dnssecOk: options.dnssecOk ?? false, cd: options.cd ?? false };
  return options.transport === undefined ? request : { ...request, transport: options.transport };
}

export interface Rendered {
  readonly id: number;
  readonly rcode: number;
  readonly flags: string;
  readonly question: string;
  readonly answer: string[];
  readonly authority: string[];
  readonly additional: string[];
  readonly udpSize: number | null;
}

/** A response as text lines: "owner TYPE data", without TTLs unless asked. */
export function render(message: Buffer, withTtl = false): Rendered {
  const packet = Packet.parse(message);
  const h = packet.header;
  const flags = [h.qr && "qr", h.aa && "aa", h.tc && "tc", h.rd && "rd", h.ra && "ra"].filter(Boolean).join(" ");
  const opt = packet.additionals.find((r) => r.type === Packet.TYPE.EDNS);
  const q = packet.questions[0];
  return {
    id: h.id,
    rcode: h.rcode,
    flags,
    question: q === undefined ? "" : `${q.name} ${Packet.typeName(q.type)}`,
    answer: packet.answers.map((r) => line(r, withTtl)),
    authority: packet.authorities.map((r) => line(r, withTtl)),
    additional: packet.additionals.filter((r) => r.type !== Packet.TYPE.EDNS).map((r) => line(r, withTtl)),
    udpSize: opt === undefined ? null : opt.class,
  };
}

function line(r: Resource, withTtl: boolean): string {
  const head = withTtl ? `${r.name} ${r.ttl} ${Packet.typeName(r.type)}` : `${r.name} ${Packet.typeName(r.type)}`;
  switch (r.type) {
    case Packet.TYPE.A:
    case Packet.TYPE.AAAA:
      return `${head} ${r.address ?? ""}`;
    case Packet.TYPE.CNAME:
    case Packet.TYPE.PTR:
      return `${head} ${r.domain ?? ""}`;
    case Packet.TYPE.NS:
      return `${head} ${r.ns ?? ""}`;
    case Packet.TYPE.TXT:
      return `${head} ${JSON.stringify(r.data)}`;
    case Packet.TYPE.SRV:
      return `${head} ${r.priority} ${r.weight} ${r.port} ${r.target ?? ""}`;
    case Packet.TYPE.SOA:
      return `${head} ${r.primary ?? ""} ${r.admin ?? ""} ${r.serial} ${r.refresh} ${r.retry} ${String(r.expiration)} ${r.minimum}`;
    default:
      return head;
  }
}

/** An Answer as text, with "@" for records owned by the question name. */
export function answerLines(answer: Answer): { kind: string; rcode?: number; answer?: string[]; authority?: string[]; additional?: string[] } {
  if (answer.kind === "forward") return { kind: "forward" };
  const reply = answer.kind === "chase" ? answer.reply : answer;
  return {
    kind: answer.kind,
    rcode: reply.rcode,
    answer: reply.answer.flatMap(lines),
    authority: reply.authority.flatMap((s) => lines(s).map((l) => l.replace(/ \d+ 7200 /, " SERIAL 7200 "))),
    additional: reply.additional.flatMap(lines),
  };
}

function lines(set: RRSet): string[] {
  return set.records.map((r) => `${set.owner ?? "@"} ${r.type} ${data(r)}`);
}

function data(r: DnsRecord): string {
  switch (r.type) {
    case "A":
    case "AAAA":
      return r.address;
    case "CNAME":
    case "PTR":
    case "NS":
      return r.target;
    case "TXT":
      return JSON.stringify(r.text);
    case "SRV":
      return `${r.priority} ${r.weight} ${r.port} ${r.target}`;
    case "SOA":
      return `${r.primary} ${r.admin} ${r.serial} ${r.refresh} ${r.retry} ${r.expire} ${r.minimum}`;
    case "HINFO":
      return `${JSON.stringify(r.cpu)} ${JSON.stringify(r.os)}`;
  }
}

/** A bare 12-byte response header with this rcode, for counting tests. */
export function responseWith(rcode: number): Buffer {
  const response = Buffer.alloc(12);
  response[2] = 0x80;
  response[3] = rcode;
  return response;
}
