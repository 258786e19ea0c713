// The in-memory record store behind signpost-dns: watch events go in (upsert and delete of
// Services, EndpointSlices, Namespaces, and Pods for `pods verified`), and the query path reads
// one Map by name. Each change recomputes the records of the one Service it touches, swaps in
// the names that differ, moves the SOA serial and the generation of the scope it touched (see
// scopeOf), so cached answers elsewhere stay valid; a query never scans the store. Endpoint
// names and their PTRs are the exception to "one Map": they live in the EndpointIndex, which
// answers them from each Service's table of addresses (one entry per endpoint instead of two
// names with record sets).
import type { Pod } from "../model/pod.ts";
import { keyOf, objectKey, serviceKeyOf } from "../model/key.ts";
import type { Namespace, Service } from "../model/types.ts";
import type { DnsEndpointSlice } from "./dns-slice.ts";
import { EndpointIndex } from "./endpoint-index.ts";
import { canonicalIP } from "../model/ip.ts";
import { ipFromReverseName } from "./ip-names.ts";
import { normalizeName } from "./parse-name.ts";
import type { EndpointNames } from "./endpoint-names.ts";
import { type DnsRecord, NO_RRSETS, type RRSet, TYPE } from "./records.ts";
import {
  addressRecords,
  buildServiceRecords,
  EMPTY_SERVICE_RECORDS,
  nameRecords,
  type NameRecords,
  sameNameRecords,
} from "./service-records.ts";

export type PodMode = "disabled" | "insecure" | "verified";

export interface RecordStoreOptions {
  /** The cluster zone; "cluster.local" by default. */
  readonly zone?: string;
  /** TTL of every record; 5 s by default, as CoreDNS's kubernetes plugin. */
  readonly ttl?: number;
  /** Pod records a-b-c-d.<ns>.pod.<zone>, as CoreDNS's `pods` option; "insecure" by default. */
  readonly pods?: PodMode;
  /** Milliseconds since the epoch, for the SOA serial; Date.now by default. */
  readonly now?: () => number;
  /**
   * The addresses this server answers on, loopback left out (CoreDNS's local IPs), canonical:
   * the Services with an endpoint there are the zone's name servers (see nameServers).
   */
  readonly serverAddresses?: readonly string[];
}

/** One name server of the zone: the name in the NS record, and the addresses at that name. */
export interface NameServer {
  readonly name: string;
  readonly addresses: readonly string[];
}

/**
 * A counter that moves whenever an answer in its scope could change. Cached answers remember
 * the value they were built at; one that no longer matches is stale.
 */
export interface Generation {
  readonly value: number;
}

interface MutableGeneration {
  value: number;
}

/** What is known at one name. A name with no record sets exists because names exist below it. */
export interface NameEntry {
  readonly rrsets: readonly RRSet[];
}

/**
 * A name's entry, and what lookup hands out. Nearly every name has records from one Service
 * only, so that source is held in fields and its record sets are served as they are; a Map
 * exists only for a name with more (a PTR for an address two Services share). At 100,000
 * endpoints there are a quarter of a million names, so every field here counts.
 */
class Entry implements NameEntry {
  rrsets: readonly RRSet[] = NO_RRSETS;
  /** Names directly below this one, which make it exist even without records. */
  children = 0;
  /** The first source of records here (a Service key), "" when there is none. */
  source = "";
  sets: NameRecords = NO_RRSETS;
  /** Further sources, by Service key. */
  more: Map<string, NameRecords> | null = null;
}

interface BuiltService {
  readonly names: readonly string[];
  readonly reverse: readonly string[];
  readonly endpoints: EndpointNames | null;
}

const NOTHING_BUILT: BuiltService = { names: [], reverse: [], endpoints: null };

export class RecordStore {
  readonly zone: string;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly #now: () => number;
  readonly #serverAddresses: readonly string[];
  #serial: number;
  #synced = false;

  readonly #services = new Map<string, Service>();
  /** Slices by the key of the Service they belong to, then by slice name. */
  readonly #slicesByService = new Map<string, DnsEndpointSlice[]>();
  /** Owner Service key of each slice key, to move a slice whose service-name label changed. */
  readonly #sliceOwner = new Map<string, string>();
  /** What each Service holds in the store: the names it is a source of, and its endpoint table. */
  readonly #built = new Map<string, BuiltService>();
  readonly #entries = new Map<string, Entry>();
  readonly #endpoints = new EndpointIndex();
  readonly #namespaces = new Set<string>();
  /** "namespace/ip" of Pods, counted (an IP may briefly be two Pods'), for `pods verified`. */
  readonly #podIPs = new Map<string, number>();
  /** The "namespace/ip" keys of each Pod, by namespace/name. */
  readonly #podKeys = new Map<string, readonly string[]>();
  /** Everything below this suffix takes part in empty-non-terminal tracking. */
  readonly #svcSuffix: string;
  readonly #podSuffix: string;
  /** Scopes of cached answers: each namespace that holds data, the reverse zones, the rest. */
  readonly #namespaceGenerations = new Map<string, MutableGeneration>();
  /** Names in namespaces that hold nothing: moves when a namespace starts to hold something. */
  readonly #absentNamespaces: MutableGeneration = { value: 0 };
  readonly #reverseGeneration: MutableGeneration = { value: 0 };
  /** The apex, svc.<zone>, pod.<zone> and other names: they follow the serial. */
  readonly #zoneGeneration: MutableGeneration = { value: 0 };
  /** SOA record sets by zone, remade when the serial moves, so each is encoded once. */
  readonly #soa = new Map<string, { serial: number; set: RRSet }>();

  constructor(options: RecordStoreOptions = {}) {
    this.zone = normalizeName(options.zone ?? "cluster.local");
    this.ttl = options.ttl ?? 5;
    this.pods = options.pods ?? "insecure";
    this.#now = options.now ?? Date.now;
    this.#serverAddresses = options.serverAddresses ?? [];
    this.#serial = Math.floor(this.#now() / 1000) >>> 0;
    this.#svcSuffix = `.svc.${this.zone}`;
    this.#podSuffix = `.pod.${this.zone}`;
  }

  /** False until the first full list from the API server is in; the answers are SERVFAIL then. */
  get synced(): boolean {
    return this.#synced;
  }

  markSynced(): void {
    this.#synced = true;
  }

  /** The zone's SOA serial: it moves whenever an answer could change. */
  get serial(): number {
    return this.#serial;
  }

  /**
   * The SOA of the cluster zone or a reverse zone, CoreDNS's shape: ns.dns.<zone>,
   * hostmaster.<zone>, the current serial, and the record TTL as minimum.
   */
  soa(zone: string): RRSet {
    const cached = this.#soa.get(zone);
    if (cached !== undefined && cached.serial === this.#serial) return cached.set;
    const set: RRSet = {
      type: TYPE.SOA,
      owner: zone,
      records: [
        {
          type: "SOA",
          ttl: Math.min(this.ttl, 300),
          primary: `ns.dns.${zone}`,
          admin: `hostmaster.${zone}`,
          serial: this.#serial,
          refresh: 7200,
          retry: 1800,
          expire: 86400,
          minimum: this.ttl,
        },
      ],
      additional: [],
    };
    this.#soa.set(zone, { serial: this.#serial, set });
    return set;
  }

  /**
   * The scope whose generation moves whenever the answer to a question about `name` (a
   * cluster or reverse name, lower-case) could change: for <x>.<ns>.svc.<zone> and
   * <x>.<ns>.pod.<zone> the namespace <ns>; for reverse names the reverse zones; for the other
   * names of the zone (the apex, svc.<zone>, bad shapes) every change. An answer that follows
   * an in-zone CNAME into another scope is not covered: the caller does not cache those.
   */
  scopeOf(name: string): Generation {
    const namespace = namespaceOf(name, this.#svcSuffix) ?? namespaceOf(name, this.#podSuffix);
    if (namespace !== null) return this.#namespaceGenerations.get(namespace) ?? this.#absentNamespaces;
    if (name.endsWith(".arpa")) return this.#reverseGeneration;
    return this.#zoneGeneration;
  }

  lookup(name: string): NameEntry | undefined {
    const entry = this.#entries.get(name);
    if (name.endsWith(".arpa")) return this.#withEndpointPTRs(name, entry);
    if (entry !== undefined) return entry;
    const ips = this.#endpoints.addresses(name);
    return ips.length === 0 ? undefined : { rrsets: nameRecords(addressRecords(ips, this.ttl)) };
  }

  /** The PTRs of a reverse name: the ClusterIPs' from the entry, then the endpoint names'. */
  #withEndpointPTRs(name: string, entry: Entry | undefined): NameEntry | undefined {
    // ipFromReverseName takes only the canonical spelling (no leading zeros, lower-case nibbles).
    const ip = ipFromReverseName(name);
    if (ip === null) return entry;
    const names = this.#endpoints.namesOf(ip);
    if (names.length === 0) return entry;
    const ptrs: DnsRecord[] = [];
    for (const set of entry?.rrsets ?? NO_RRSETS) ptrs.push(...set.records);
    for (const target of names) ptrs.push({ type: "PTR", ttl: this.ttl, target });
    return { rrsets: nameRecords(ptrs) };
  }

  /**
   * The zone's name servers, found as CoreDNS's kubernetes plugin finds them: the Services
   * with an endpoint at one of this server's addresses (kube-dns, in a cluster), each by its
   * name with the addresses at that name (a ClusterIP Service's cluster IPs, a headless one's
   * endpoints). When no Service has such an endpoint: ns.dns.<zone> at the server's own
   * addresses. Empty when the server has none (it listens on loopback only).
   */
  nameServers(): NameServer[] {
    const names: string[] = [];
    for (const ip of this.#serverAddresses) {
      for (const service of this.#endpoints.servicesWith(ip)) if (!names.includes(service)) names.push(service);
    }
    const found = names.map((name) => ({ name, addresses: addressesAt(this.#entries.get(name)) }));
    if (found.length > 0) return found;
    if (this.#serverAddresses.length === 0) return [];
    return [{ name: `ns.dns.${this.zone}`, addresses: this.#serverAddresses }];
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  /** Whether a Pod in `namespace` has this address (canonical form); only `pods verified` tracks Pods. */
  hasPodIP(namespace: string, ip: string): boolean {
    return this.#podIPs.has(`${namespace}/${ip}`);
  }

  upsertNamespace(namespace: Namespace): void {
    if (this.#namespaces.has(namespace.name)) return;
    this.#namespaces.add(namespace.name);
    this.#changed(namespace.name, false);
  }

  deleteNamespace(name: string): void {
    if (!this.#namespaces.delete(name)) return;
    this.#changed(name, false);
    // Answers cached in the namespace's scope hold the old object and stay stale; a namespace
    // made again under the same name starts a new one (and moves the absent scope).
    this.#namespaceGenerations.delete(name);
  }

  /** A Pod's addresses, for `pods verified`; in the other modes Pods are not kept. */
  upsertPod(pod: Pod): void {
    if (this.pods !== "verified") return;
    const keys = [...new Set(pod.ips.flatMap((address) => canonicalIP(address) ?? []))].map((ip) => `${pod.namespace}/${ip}`);
    this.#setPodKeys(pod.namespace, keyOf(pod), keys.sort());
  }

  deletePod(namespace: string, name: string): void {
    if (this.pods !== "verified") return;
    this.#setPodKeys(namespace, objectKey(namespace, name), []);
  }

  upsertService(service: Service): void {
    const key = keyOf(service);
    this.#services.set(key, service);
    this.#rebuild(key);
  }

  deleteService(namespace: string, name: string): void {
    const key = objectKey(namespace, name);
    if (this.#services.delete(key)) this.#rebuild(key);
  }

  upsertEndpointSlice(slice: DnsEndpointSlice): void {
    const sliceKey = keyOf(slice);
    const owner = serviceKeyOf(slice);
    const previousOwner = this.#sliceOwner.get(sliceKey);
    if (previousOwner !== undefined && previousOwner !== owner) this.#detachSlice(sliceKey, slice.name, previousOwner);
    if (owner !== null) {
      const slices = this.#slicesByService.get(owner) ?? [];
      this.#slicesByService.set(owner, slices);
      const at = slices.findIndex((s) => s.name === slice.name);
      if (at < 0) slices.push(slice);
      else slices[at] = slice;
      this.#sliceOwner.set(sliceKey, owner);
      this.#rebuild(owner);
    }
  }

  deleteEndpointSlice(namespace: string, name: string): void {
    const sliceKey = objectKey(namespace, name);
    const owner = this.#sliceOwner.get(sliceKey);
    if (owner !== undefined) this.#detachSlice(sliceKey, name, owner);
  }

  #detachSlice(sliceKey: string, sliceName: string, owner: string): void {
    const slices = this.#slicesByService.get(owner)?.filter((s) => s.name !== sliceName) ?? [];
    if (slices.length === 0) this.#slicesByService.delete(owner);
    else this.#slicesByService.set(owner, slices);
    this.#sliceOwner.delete(sliceKey);
    this.#rebuild(owner);
  }

  #rebuild(serviceKey: string): void {
    const service = this.#services.get(serviceKey);
    const slices = this.#slicesByService.get(serviceKey) ?? [];
    const next =
      service === undefined
        ? EMPTY_SERVICE_RECORDS
        : buildServiceRecords(service, slices, { zone: this.zone, ttl: this.ttl });
    const previous = this.#built.get(serviceKey) ?? NOTHING_BUILT;
    // The records a name had from this Service are read back from its entry.
    const apply = (before: readonly string[], after: ReadonlyMap<string, NameRecords>): boolean => {
      let changed = false;
      for (const name of before) {
        if (!after.has(name)) {
          this.#removeSource(name, serviceKey);
          changed = true;
        }
      }
      for (const [name, records] of after) {
        if (sameNameRecords(this.#recordsFrom(name, serviceKey), records)) continue;
        this.#setSource(name, serviceKey, records);
        changed = true;
      }
      return changed;
    };
    const endpoints = this.#replaceEndpoints(previous.endpoints, next.endpoints);
    const names = apply(previous.names, next.names) || endpoints;
    const reverse = apply(previous.reverse, ptrRecords(next.reverse)) || endpoints;
    if (next === EMPTY_SERVICE_RECORDS) this.#built.delete(serviceKey);
    else this.#built.set(serviceKey, { names: [...next.names.keys()], reverse: [...next.reverse.keys()], endpoints: next.endpoints });
    if (names || reverse) this.#changed(names ? serviceKey.slice(0, serviceKey.indexOf("/")) : null, reverse);
  }

  /** Swaps one Service's endpoint table; while it has one, the Service's name exists. */
  #replaceEndpoints(previous: EndpointNames | null, next: EndpointNames | null): boolean {
    if (!this.#endpoints.replace(previous, next)) return false;
    if (previous === null && next !== null) this.#addChild(next.service);
    if (previous !== null && next === null) this.#removeChild(previous.service);
    return true;
  }

  #recordsFrom(name: string, source: string): NameRecords | undefined {
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    return entry.source === source ? entry.sets : entry.more?.get(source);
  }

  #setSource(name: string, source: string, records: NameRecords): void {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = new Entry();
      this.#entries.set(name, entry);
      this.#addChild(parentOf(name));
    }
    if (entry.source === "" || entry.source === source) {
      entry.source = source;
      entry.sets = records;
    } else {
      entry.more ??= new Map();
      entry.more.set(source, records);
    }
    entry.rrsets = mergedSets(entry);
  }

  #removeSource(name: string, source: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    if (entry.source === source) {
      const next = entry.more?.entries().next();
      if (next !== undefined && next.done !== true) {
        const [key, sets] = next.value;
        entry.more?.delete(key);
        entry.source = key;
        entry.sets = sets;
      } else {
        entry.source = "";
        entry.sets = NO_RRSETS;
      }
    } else if (entry.more?.delete(source) !== true) {
      return;
    }
    if (entry.more?.size === 0) entry.more = null;
    entry.rrsets = mergedSets(entry);
    this.#dropIfEmpty(name, entry);
  }

  #addChild(name: string): void {
    if (!this.#tracksEmptyNonTerminal(name)) return;
    const entry = this.#entries.get(name);
    if (entry !== undefined) {
      entry.children++;
      return;
    }
    const created = new Entry();
    created.children = 1;
    this.#entries.set(name, created);
    this.#addChild(parentOf(name));
  }

  /** Undoes one #addChild(name). */
  #removeChild(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || !this.#tracksEmptyNonTerminal(name)) return;
    entry.children--;
    this.#dropIfEmpty(name, entry);
  }

  #dropIfEmpty(name: string, entry: Entry): void {
    if (entry.source !== "" || entry.children > 0) return;
    this.#entries.delete(name);
    this.#removeChild(parentOf(name));
  }

  /** Names below svc.<zone> exist while a name below them does (RFC 8020 cuts NXDOMAIN trees). */
  #tracksEmptyNonTerminal(name: string): boolean {
    return name.endsWith(this.#svcSuffix);
  }

  #setPodKeys(namespace: string, podKey: string, keys: readonly string[]): void {
    const before = this.#podKeys.get(podKey) ?? [];
    if (before.length === keys.length && before.every((k, i) => k === keys[i])) return;
    for (const key of before) {
      const count = (this.#podIPs.get(key) ?? 1) - 1;
      if (count <= 0) this.#podIPs.delete(key);
      else this.#podIPs.set(key, count);
    }
    for (const key of keys) this.#podIPs.set(key, (this.#podIPs.get(key) ?? 0) + 1);
    if (keys.length === 0) this.#podKeys.delete(podKey);
    else this.#podKeys.set(podKey, keys);
    this.#changed(namespace, false);
  }

  /** Moves the serial, and the generations of the scopes whose answers may have changed. */
  #changed(namespace: string | null, reverse: boolean): void {
    this.#serial = Math.max((this.#serial + 1) >>> 0, Math.floor(this.#now() / 1000) >>> 0);
    this.#zoneGeneration.value++;
    if (reverse) this.#reverseGeneration.value++;
    if (namespace === null) return;
    const generation = this.#namespaceGenerations.get(namespace);
    if (generation !== undefined) {
      generation.value++;
      return;
    }
    // Answers about this namespace were cached in the absent scope until now.
    this.#namespaceGenerations.set(namespace, { value: 0 });
    this.#absentNamespaces.value++;
  }
}

/** "ns" for "x.ns.svc.<zone>" and "ns.svc.<zone>" with suffix ".svc.<zone>"; null otherwise. */
function namespaceOf(name: string, suffix: string): string | null {
  if (!name.endsWith(suffix) || name.length === suffix.length) return null;
  const end = name.length - suffix.length;
  return name.slice(name.lastIndexOf(".", end - 1) + 1, end);
}

/** The A and AAAA addresses of a name's records. */
function addressesAt(entry: Entry | undefined): string[] {
  const out: string[] = [];
  for (const set of entry?.rrsets ?? NO_RRSETS) {
    for (const r of set.records) if (r.type === "A" || r.type === "AAAA") out.push(r.address);
  }
  return out;
}

function parentOf(name: string): string {
  return name.slice(name.indexOf(".") + 1);
}

function ptrRecords(reverse: ReadonlyMap<string, readonly DnsRecord[]>): Map<string, NameRecords> {
  return new Map([...reverse].map(([name, records]) => [name, nameRecords(records)]));
}

/** The record sets at a name: its one source's as they are, or merged by type over several. */
function mergedSets(entry: Entry): readonly RRSet[] {
  if (entry.more === null) return entry.sets;
  const byType = new Map<number, { records: DnsRecord[]; additional: RRSet[] }>();
  for (const sets of [entry.sets, ...entry.more.values()]) {
    for (const set of sets) {
      const merged = byType.get(set.type) ?? { records: [], additional: [] };
      merged.records.push(...set.records);
      merged.additional.push(...set.additional);
      byType.set(set.type, merged);
    }
  }
  return [...byType].map(([type, { records, additional }]) => ({ type, owner: null, records, additional }));
}
