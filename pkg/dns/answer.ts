// Question in, answer out, as CoreDNS's kubernetes plugin answers: records when the name has
// them; NODATA (NOERROR, no records) when the name exists for another type, is svc.<zone>, or
// is an existing namespace; NXDOMAIN for unknown services and namespaces and bad shapes. Both
// negative answers carry the zone's SOA, and before the first sync they become SERVFAIL.
import { ipFromPodLabel } from "./ip-names.ts";
import type { ReverseZones } from "./reverse-zones.ts";
import { normalizeName, parseName, type RequestRecord } from "./parse-name.ts";
import { RCODE, type Reply, type RRSet, toRRSets, TYPE } from "./records.ts";
import type { NameEntry } from "./name-table.ts";
import type { RecordStore } from "./record-store.ts";
import { addressRecords } from "./service-records.ts";

export type Answer =
  | ({ readonly kind: "reply" } & Reply)
  /** Outside the cluster zone, or a reverse name the cluster does not know: ask upstream. */
  | { readonly kind: "forward" }
  /**
   * A CNAME out of the zone (an ExternalName) asked for A or AAAA: the reply so far, to which
   * the upstream's records for `target` and `qtype` are appended.
   */
  | { readonly kind: "chase"; readonly reply: Reply; readonly target: string; readonly qtype: number };

export interface AnswerOptions {
  /** Pass reverse names the store does not know to the upstream, as kubeadm's Corefile does. */
  readonly reverseFallthrough?: boolean;
  /** The cluster's reverse zones and their fallthrough; when given, it decides instead of reverseFallthrough. */
  readonly reverseZones?: ReverseZones;
  /**
   * Answer ANY minimally (RFC 8482), as over UDP: one record set of a cluster name, its
   * addresses when it has them. Off, ANY gets every record set. (A name that goes upstream is
   * still "forward": the caller answers it with RFC8482_REPLY.)
   */
  readonly minimalAny?: boolean;
}

export const DNS_SCHEMA_VERSION = "1.1.0";
/** CoreDNS gives the schema version record a TTL of 8 hours. */
const DNS_VERSION_TTL = 28800;
/** CoreDNS's `any` plugin gives its HINFO this TTL. */
const RFC8482_TTL = 8482;
const MAX_CNAME_CHAIN = 8;

/**
 * The answer to one question. `name` is lower-case without the trailing dot, as decodeQuery
 * gives it; the store is read by index only.
 */
export function answerQuestion(store: RecordStore, name: string, qtype: number, options: AnswerOptions = {}): Answer {
  if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) return reply(RCODE.REFUSED, [], [], false);
  const minimalAny = qtype === TYPE.ANY && options.minimalAny === true;
  const request = parseName(name, store.zone);
  if (request.kind === "outside") return { kind: "forward" };
  if (request.kind === "reverse") {
    if (options.reverseZones?.serves(request.ip) === false) return { kind: "forward" };
    const entry = store.lookup(name);
    if (entry === undefined || entry.rrsets.length === 0) {
      if (options.reverseZones?.fallsThrough(name) ?? options.reverseFallthrough ?? true) return { kind: "forward" };
      return negative(store, request.zone, store.synced ? RCODE.NXDOMAIN : RCODE.SERVFAIL);
    }
    return fromEntry(store, request.zone, minimalAny ? oneSet(entry) : entry, qtype, 0);
  }
  const answer = inZone(store, name, request, qtype, 0, minimalAny);
  if (!store.synced && answer.kind === "reply" && answer.answer.length === 0 && answer.rcode !== RCODE.REFUSED) {
    return negative(store, store.zone, RCODE.SERVFAIL);
  }
  return answer;
}

function inZone(store: RecordStore, name: string, request: RequestRecord, qtype: number, depth: number, minimalAny = false): Answer {
  const zone = store.zone;
  const entry = store.lookup(name);
  if (entry !== undefined) return fromEntry(store, zone, minimalAny ? oneSet(entry) : entry, qtype, depth);
  switch (request.kind) {
    case "apex":
      if (qtype === TYPE.SOA) return reply(RCODE.NOERROR, [store.soa(zone)], [], true);
      if (qtype === TYPE.NS) return nameServersReply(store);
      return negative(store, zone, RCODE.NOERROR);
    case "name-server":
      return fromEntry(store, zone, nameServerEntry(store, minimalAny), qtype, depth);
    case "name-server-parent":
      return negative(store, zone, RCODE.NOERROR);
    case "dns-version":
      if (qtype === TYPE.TXT || qtype === TYPE.ANY) return reply(RCODE.NOERROR, [DNS_VERSION], [], true);
      return negative(store, zone, RCODE.NOERROR);
    case "svc":
      if (request.namespace === "") return negative(store, zone, RCODE.NOERROR);
      if (request.service === "" && store.hasNamespace(request.namespace)) {
        return negative(store, zone, RCODE.NOERROR);
      }
      return negative(store, zone, RCODE.NXDOMAIN);
    case "pod":
      return podAnswer(store, request.namespace, request.pod, qtype);
    default:
      return negative(store, zone, RCODE.NXDOMAIN);
  }
}

function fromEntry(store: RecordStore, zone: string, entry: NameEntry, qtype: number, depth: number): Answer {
  if (qtype === TYPE.ANY && entry.rrsets.length > 0) {
    return { kind: "reply", ...positive(entry.rrsets, entry.rrsets.flatMap((s) => s.additional)) };
  }
  const set = entry.rrsets.find((s) => s.type === qtype);
  if (set !== undefined) return { kind: "reply", ...positive([set], set.additional) };
  const cname = entry.rrsets.find((s) => s.type === TYPE.CNAME);
  if (cname === undefined) return negative(store, zone, RCODE.NOERROR);
  return chaseCNAME(store, cname, qtype, depth);
}

/**
 * The one record set a minimal ANY answer carries (RFC 8482 4.1): the addresses when the name
 * has them, A before AAAA, else its first set.
 */
function oneSet(entry: NameEntry): NameEntry {
  if (entry.rrsets.length <= 1) return entry;
  const set = entry.rrsets.find((s) => s.type === TYPE.A) ?? entry.rrsets.find((s) => s.type === TYPE.AAAA) ?? entry.rrsets[0];
  return { rrsets: set === undefined ? [] : [set] };
}

/** A CNAME answers every type; in-zone targets are followed here, others by the caller. */
function chaseCNAME(store: RecordStore, cname: RRSet, qtype: number, depth: number): Answer {
  const first = cname.records[0];
  const head = positive([cname], []);
  if (first?.type !== "CNAME" || depth >= MAX_CNAME_CHAIN) return { kind: "reply", ...head };
  const target = normalizeName(first.target);
  const request = parseName(target, store.zone);
  if (request.kind === "outside" || request.kind === "reverse") {
    if (qtype !== TYPE.A && qtype !== TYPE.AAAA) return { kind: "reply", ...head };
    return { kind: "chase", reply: head, target, qtype };
  }
  const next = inZone(store, target, request, qtype, depth + 1);
  if (next.kind === "forward") return { kind: "reply", ...head };
  const tail = next.kind === "chase" ? next.reply : next;
  if (tail.answer.length === 0) return { kind: "reply", ...head };
  const merged: Reply = {
    ...head,
    answer: [cname, ...tail.answer.map((s) => (s.owner === null ? { ...s, owner: target } : s))],
    additional: tail.additional,
  };
  return next.kind === "chase" ? { ...next, reply: merged } : { kind: "reply", ...merged };
}

function podAnswer(store: RecordStore, namespace: string, pod: string, qtype: number): Answer {
  const zone = store.zone;
  if (namespace === "") return negative(store, zone, RCODE.NOERROR);
  if (store.pods === "disabled" || !store.hasNamespace(namespace)) return negative(store, zone, RCODE.NXDOMAIN);
  if (pod === "") return negative(store, zone, RCODE.NOERROR);
  const ip = ipFromPodLabel(pod);
  if (ip === null) return negative(store, zone, RCODE.NXDOMAIN);
  if (store.pods === "verified" && !store.hasPodIP(namespace, ip)) return negative(store, zone, RCODE.NXDOMAIN);
  const type = ip.includes(":") ? "AAAA" : "A";
  if (qtype !== TYPE[type] && qtype !== TYPE.ANY) return negative(store, zone, RCODE.NOERROR);
  const set: RRSet = {
    type: TYPE[type],
    owner: null,
    records: [{ type, ttl: store.ttl, address: ip }],
    additional: [],
  };
  return reply(RCODE.NOERROR, [set], [], true);
}

function positive(answer: readonly RRSet[], additional: readonly RRSet[]): Reply {
  return { rcode: RCODE.NOERROR, authoritative: true, answer, authority: [], additional };
}

function reply(rcode: number, answer: readonly RRSet[], authority: readonly RRSet[], authoritative: boolean): Answer {
  return { kind: "reply", rcode, authoritative, answer, authority, additional: [] };
}

/** NXDOMAIN, NODATA (rcode NOERROR) or SERVFAIL, with the zone's SOA in the authority section. */
function negative(store: RecordStore, zone: string, rcode: number): Answer {
  return reply(rcode, [], [store.soa(zone)], true);
}

/**
 * RFC 8482 4.2's answer to ANY over UDP for a name that would go upstream: a synthesized
 * HINFO, as CoreDNS's `any` plugin writes it, instead of a forwarded answer of unbounded size.
 */
export const RFC8482_REPLY: Reply = {
  rcode: RCODE.NOERROR,
  authoritative: false,
  answer: [{ type: TYPE.HINFO, owner: null, records: [{ type: "HINFO", ttl: RFC8482_TTL, cpu: "ANY obsoleted", os: "See RFC 8482" }], additional: [] }],
  authority: [],
  additional: [],
};

const DNS_VERSION: RRSet = {
  type: TYPE.TXT,
  owner: null,
  records: [{ type: "TXT", ttl: DNS_VERSION_TTL, text: DNS_SCHEMA_VERSION }],
  additional: [],
};

/**
 * The apex NS records, one per name server (store.nameServers), with their addresses as glue
 * in the additional section. A server with no address of its own still names ns.dns.<zone>,
 * the SOA's primary, without glue.
 */
function nameServersReply(store: RecordStore): Answer {
  const servers = store.nameServers();
  const targets = servers.length === 0 ? [`ns.dns.${store.zone}`] : servers.map((s) => s.name);
  const ns: RRSet = {
    type: TYPE.NS,
    owner: null,
    records: targets.map((target) => ({ type: "NS", ttl: store.ttl, target })),
    additional: [],
  };
  const glue = servers.flatMap((s) => toRRSets(s.name, addressRecords(s.addresses, store.ttl)));
  return { kind: "reply", ...positive([ns], glue) };
}

/** The addresses of ns.dns.<zone>: those of every name server, as CoreDNS answers that name. */
function nameServerEntry(store: RecordStore, minimalAny: boolean): NameEntry {
  const addresses = new Set(store.nameServers().flatMap((s) => s.addresses));
  const entry = { rrsets: toRRSets(null, addressRecords([...addresses], store.ttl)) };
  return minimalAny ? oneSet(entry) : entry;
}
