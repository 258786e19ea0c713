// The in-memory record store behind signpost-dns: watch events go in (upsert and delete of
// Services, EndpointSlices and Namespaces), and the query path reads one Map by name. Each
// change recomputes the records of the one Service it touches, swaps in the names that differ
// and moves the SOA serial; a query never scans.
import type { EndpointSlice, Namespace, Service } from "../model/types.ts";
import { canonicalIP } from "./ip-names.ts";
import { normalizeName } from "./parse-name.ts";
import { type DnsRecord, type RRSet, TYPE, toRRSets } from "./records.ts";
import {
  buildServiceRecords,
  EMPTY_SERVICE_RECORDS,
  type NameRecords,
  sameNameRecords,
  type ServiceRecords,
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
}

/** What is known at one name. A name with no record sets exists because names exist below it. */
export interface NameEntry {
  readonly rrsets: readonly RRSet[];
}

interface Entry {
  /** Record contributions by source (a Service key), usually exactly one. */
  readonly sources: Map<string, NameRecords>;
  /** Names directly below this one, which make it exist even without records. */
  children: number;
  view: NameEntry;
}

const EMPTY_ENTRY: NameEntry = { rrsets: [] };

export class RecordStore {
  readonly zone: string;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly #now: () => number;
  #serial: number;
  #synced = false;

  readonly #services = new Map<string, Service>();
  /** Slices by the key of the Service they belong to, then by slice name. */
  readonly #slicesByService = new Map<string, Map<string, EndpointSlice>>();
  /** Owner Service key of each slice key, to move a slice whose service-name label changed. */
  readonly #sliceOwner = new Map<string, string>();
  readonly #built = new Map<string, ServiceRecords>();
  readonly #entries = new Map<string, Entry>();
  readonly #namespaces = new Set<string>();
  /** "namespace/ip" of endpoints that target a Pod, counted per slice, for `pods verified`. */
  readonly #podIPs = new Map<string, number>();
  readonly #podIPsBySlice = new Map<string, readonly string[]>();
  /** Everything below this suffix takes part in empty-non-terminal tracking. */
  readonly #svcSuffix: string;
  /** SOA record sets by zone, remade when the serial moves, so each is encoded once. */
  readonly #soa = new Map<string, { serial: number; set: RRSet }>();

  constructor(options: RecordStoreOptions = {}) {
    this.zone = normalizeName(options.zone ?? "cluster.local");
    this.ttl = options.ttl ?? 5;
    this.pods = options.pods ?? "insecure";
    this.#now = options.now ?? Date.now;
    this.#serial = Math.floor(this.#now() / 1000) >>> 0;
    this.#svcSuffix = `.svc.${this.zone}`;
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

  lookup(name: string): NameEntry | undefined {
    return this.#entries.get(name)?.view;
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  /** Whether an EndpointSlice names a Pod in `namespace` with this address. */
  hasPodIP(namespace: string, ip: string): boolean {
    return this.#podIPs.has(`${namespace}/${ip}`);
  }

  upsertNamespace(namespace: Namespace): void {
    if (this.#namespaces.has(namespace.name)) return;
    this.#namespaces.add(namespace.name);
    this.#bump();
  }

  deleteNamespace(name: string): void {
    if (this.#namespaces.delete(name)) this.#bump();
  }

  upsertService(service: Service): void {
    const key = `${service.namespace}/${service.name}`;
    this.#services.set(key, service);
    this.#rebuild(key);
  }

  deleteService(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.#services.delete(key)) this.#rebuild(key);
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const sliceKey = `${slice.namespace}/${slice.name}`;
    const owner = slice.serviceName === "" ? null : `${slice.namespace}/${slice.serviceName}`;
    const previousOwner = this.#sliceOwner.get(sliceKey);
    if (previousOwner !== undefined && previousOwner !== owner) this.#detachSlice(sliceKey, slice.name, previousOwner);
    if (owner !== null) {
      const slices = this.#slicesByService.get(owner) ?? new Map<string, EndpointSlice>();
      this.#slicesByService.set(owner, slices);
      slices.set(slice.name, slice);
      this.#sliceOwner.set(sliceKey, owner);
      this.#rebuild(owner);
    }
    if (this.pods === "verified") this.#setPodIPs(sliceKey, podIPsOf(slice));
  }

  deleteEndpointSlice(namespace: string, name: string): void {
    const sliceKey = `${namespace}/${name}`;
    const owner = this.#sliceOwner.get(sliceKey);
    if (owner !== undefined) this.#detachSlice(sliceKey, name, owner);
    if (this.pods === "verified") this.#setPodIPs(sliceKey, []);
  }

  #detachSlice(sliceKey: string, sliceName: string, owner: string): void {
    const slices = this.#slicesByService.get(owner);
    slices?.delete(sliceName);
    if (slices?.size === 0) this.#slicesByService.delete(owner);
    this.#sliceOwner.delete(sliceKey);
    this.#rebuild(owner);
  }

  #rebuild(serviceKey: string): void {
    const service = this.#services.get(serviceKey);
    const slices = this.#slicesByService.get(serviceKey)?.values() ?? [];
    const next =
      service === undefined
        ? EMPTY_SERVICE_RECORDS
        : buildServiceRecords(service, slices, { zone: this.zone, ttl: this.ttl });
    const previous = this.#built.get(serviceKey) ?? EMPTY_SERVICE_RECORDS;
    let changed = false;
    const apply = (before: ReadonlyMap<string, NameRecords>, after: ReadonlyMap<string, NameRecords>) => {
      for (const name of before.keys()) {
        if (!after.has(name)) {
          this.#removeSource(name, serviceKey);
          changed = true;
        }
      }
      for (const [name, records] of after) {
        if (sameNameRecords(before.get(name), records)) continue;
        this.#setSource(name, serviceKey, records);
        changed = true;
      }
    };
    apply(previous.names, next.names);
    apply(ptrRecords(previous.reverse), ptrRecords(next.reverse));
    if (next === EMPTY_SERVICE_RECORDS) this.#built.delete(serviceKey);
    else this.#built.set(serviceKey, next);
    if (changed) this.#bump();
  }

  #setSource(name: string, source: string, records: NameRecords): void {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = { sources: new Map(), children: 0, view: EMPTY_ENTRY };
      this.#entries.set(name, entry);
      this.#addChild(parentOf(name));
    }
    entry.sources.set(source, records);
    entry.view = viewOf(entry);
  }

  #removeSource(name: string, source: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || !entry.sources.delete(source)) return;
    entry.view = viewOf(entry);
    this.#dropIfEmpty(name, entry);
  }

  #addChild(name: string): void {
    if (!this.#tracksEmptyNonTerminal(name)) return;
    const entry = this.#entries.get(name);
    if (entry !== undefined) {
      entry.children++;
      return;
    }
    this.#entries.set(name, { sources: new Map(), children: 1, view: EMPTY_ENTRY });
    this.#addChild(parentOf(name));
  }

  #dropIfEmpty(name: string, entry: Entry): void {
    if (entry.sources.size > 0 || entry.children > 0) return;
    this.#entries.delete(name);
    const parent = parentOf(name);
    const parentEntry = this.#entries.get(parent);
    if (parentEntry === undefined || !this.#tracksEmptyNonTerminal(parent)) return;
    parentEntry.children--;
    this.#dropIfEmpty(parent, parentEntry);
  }

  /** Names below svc.<zone> exist while a name below them does (RFC 8020 cuts NXDOMAIN trees). */
  #tracksEmptyNonTerminal(name: string): boolean {
    return name.endsWith(this.#svcSuffix);
  }

  #setPodIPs(sliceKey: string, keys: readonly string[]): void {
    const before = this.#podIPsBySlice.get(sliceKey) ?? [];
    if (before.length === keys.length && before.every((k, i) => k === keys[i])) return;
    for (const key of before) {
      const count = (this.#podIPs.get(key) ?? 1) - 1;
      if (count <= 0) this.#podIPs.delete(key);
      else this.#podIPs.set(key, count);
    }
    for (const key of keys) this.#podIPs.set(key, (this.#podIPs.get(key) ?? 0) + 1);
    if (keys.length === 0) this.#podIPsBySlice.delete(sliceKey);
    else this.#podIPsBySlice.set(sliceKey, keys);
    this.#bump();
  }

  #bump(): void {
    this.#serial = Math.max((this.#serial + 1) >>> 0, Math.floor(this.#now() / 1000) >>> 0);
  }
}

function parentOf(name: string): string {
  return name.slice(name.indexOf(".") + 1);
}

function ptrRecords(reverse: ReadonlyMap<string, readonly DnsRecord[]>): Map<string, NameRecords> {
  return new Map([...reverse].map(([name, records]) => [name, { records, additional: [] }]));
}

function podIPsOf(slice: EndpointSlice): string[] {
  const keys = new Set<string>();
  for (const endpoint of slice.endpoints) {
    if (endpoint.podName === "") continue;
    for (const address of endpoint.addresses) {
      const ip = canonicalIP(address);
      if (ip !== null) keys.add(`${slice.namespace}/${ip}`);
    }
  }
  return [...keys].sort();
}

/** The record sets at a name, merged over its sources, with SRV glue attached. */
function viewOf(entry: Entry): NameEntry {
  const sources = [...entry.sources.values()];
  if (sources.length === 0) return EMPTY_ENTRY;
  const records = sources.flatMap((s) => s.records);
  const additional = sources.flatMap((s) => s.additional);
  const rrsets = toRRSets(null, records).map((set) => (set.type === TYPE.SRV ? { ...set, additional } : set));
  return { rrsets };
}
