// Resolves the target of an ExternalName through the upstream when a client asks for its
// address: CoreDNS answers the CNAME plus the target's records in one response, and so does
// signpost-dns. This is the rare path, so it builds and reads messages with dns2's Packet.
import { randomInt } from "node:crypto";
import { Packet, type Resource } from "dns2";
import { type DnsRecord, type RRSet, toRRSets, TYPE } from "./records.ts";
import type { ForwardRequest } from "./query-handler.ts";

/**
 * Asks the upstreams: an answer the forward cache holds comes back as it is, with no promise
 * (most forwarded queries are such hits), any other as a promise.
 */
export type Forward = (request: ForwardRequest) => Buffer | Promise<Buffer>;

/** The upstream's A, AAAA and CNAME records for `target`, as record sets; [] on any failure. */
export async function resolveTarget(forward: Forward, target: string, qtype: number): Promise<RRSet[]> {
  return (await askUpstream(forward, target, qtype))?.sets ?? [];
}

/**
 * Asks the upstream `target`'s `qtype`: its rcode and its A, AAAA and CNAME records as record
 * sets (owners as answered); null when the upstream fails or answers another question.
 */
export async function askUpstream(forward: Forward, target: string, qtype: number): Promise<{ rcode: number; sets: RRSet[] } | null> {
  const query = new Packet();
  query.header.id = randomInt(0x10000);
  query.header.rd = 1;
  query.questions.push(new Packet.Question(target, qtype, Packet.CLASS.IN));
  const message = query.toBuffer();
  let response: Packet;
  try {
    const question = message.subarray(12);
    response = Packet.parse(await forward({ message, question, name: target, qtype, qclass: Packet.CLASS.IN, dnssecOk: false, cd: false }));
  } catch {
    return null;
  }
  // The forwarder matched the upstream's answer to its own query (its own ID), and a cached
  // answer keeps that ID, so the ID says nothing here: check that it answers our question.
  const asked = response.questions[0];
  if (asked === undefined || asked.name.toLowerCase() !== target || asked.type !== qtype) return null;
  const byOwner = new Map<string, DnsRecord[]>();
  for (const rr of response.answers) {
    const record = toRecord(rr);
    if (record === null) continue;
    const owner = rr.name.toLowerCase();
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), record]);
  }
  return { rcode: response.header.rcode, sets: [...byOwner].flatMap(([owner, records]) => toRRSets(owner, records)) };
}

function toRecord(rr: Resource): DnsRecord | null {
  if (rr.type === TYPE.A && typeof rr.address === "string") return { type: "A", ttl: rr.ttl, address: rr.address };
  if (rr.type === TYPE.AAAA && typeof rr.address === "string") return { type: "AAAA", ttl: rr.ttl, address: rr.address };
  if (rr.type === TYPE.CNAME && typeof rr.domain === "string") return { type: "CNAME", ttl: rr.ttl, target: rr.domain };
  return null;
}
