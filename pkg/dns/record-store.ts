// The in-memory record store behind signpost-dns: watch events go in (upsert and delete of
// Services, EndpointSlices, Namespaces, and Pods for `pods verified`), and the query path reads
// one table by name. Each change recomputes the records of the one Service it touches, swaps in
// the names that differ, and moves the SOA serial and the generation of the scope it touched,
// so cached answers elsewhere stay valid; a query never scans the store. Its parts, each
// changing on its own: the Services and slices as delivered (service-objects.ts), the names
// and their record sets (name-table.ts), the endpoint names and their PTRs, answered from each
// Service's table of addresses (endpoint-index.ts), the Pods' addresses (pod-ips.ts), and the
// change log of serial and generations (zone-changes.ts).
import { objectKey } from "../model/key.ts";
import type { Pod } from "../model/pod.ts";
import type { Namespace, Service } from "../model/types.ts";
import type { DnsEndpointSlice } from "./dns-slice.ts";
import { EndpointIndex } from "./endpoint-index.ts";
import { ipFromReverseName } from "./ip-names.ts";
import { type NameEntry, NameTable } from "./name-table.ts";
import { normalizeName, parseName } from "./parse-name.ts";
import type { EndpointNames } from "./endpoint-names.ts";
import { type PodAtAddress, PodIPs } from "./pod-ips.ts";
import { type DnsRecord, NO_RRSETS, type RRSet } from "./records.ts";
import {
  addressRecords,
  buildServiceRecords,
  EMPTY_SERVICE_RECORDS,
  nameRecords,
  type NameRecords,
  sameNameRecords,
} from "./service-records.ts";
import { ServiceObjects } from "./service-objects.ts";
import { type Generation, ZoneChanges } from "./zone-changes.ts";

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
  /** Only these namespaces are served (CoreDNS `namespaces`); objects of others are not kept. All when absent. */
  readonly namespaces?: ReadonlySet<string> | null;
  /** False: EndpointSlices are not kept, so no endpoint name, headless address or endpoint PTR (CoreDNS `noendpoints`). */
  readonly endpoints?: boolean;
}

/** One name server of the zone: the name in the NS record, and the addresses at that name. */
export interface NameServer {
  readonly name: string;
  readonly addresses: readonly string[];
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
  readonly #serverAddresses: readonly string[];
  readonly #exposed: ReadonlySet<string> | null;
  readonly #keepSlices: boolean;
  #synced = false;
  /** From deferBuilds until the sync: a change only notes its Service in #unbuilt. */
  #deferring = false;
  /** Services of the first load whose records are not built yet (see deferBuilds); null when none. */
  #unbuilt: Set<string> | null = null;

  readonly #objects = new ServiceObjects();
  /** What each Service holds in the store: the names it is a source of, and its endpoint table. */
  readonly #built = new Map<string, BuiltService>();
  readonly #names: NameTable;
  readonly #endpoints = new EndpointIndex();
  readonly #namespaces = new Set<string>();
  readonly #podIPs = new PodIPs();
  readonly #changes: ZoneChanges;

  constructor(options: RecordStoreOptions = {}) {
    this.zone = normalizeName(options.zone ?? "cluster.local");
    this.ttl = options.ttl ?? 5;
    this.pods = options.pods ?? "insecure";
    this.#serverAddresses = options.serverAddresses ?? [];
    this.#exposed = options.namespaces ?? null;
    this.#keepSlices = options.endpoints ?? true;
    this.#names = new NameTable(this.zone);
    this.#changes = new ZoneChanges(this.zone, this.ttl, options.now ?? Date.now);
  }

  /** False until the first full list from the API server is in; the answers are SERVFAIL then. */
  get synced(): boolean {
    return this.#synced;
  }

  /**
   * Until markSynced, a change only notes the Service it touches: the first
   * list delivers each Service and its slices apart, and each is then built once instead of once
   * per object. Before the sync no read builds anything: names the load will bring are SERVFAIL
   * then. After it, buildSome builds the rest a few at a time, and a read builds what it needs
   * first (see #buildFor), so no answer depends on how far the builds have come. Only before the
   * first sync; later changes are built as they come.
   */
  deferBuilds(): void {
    if (this.#synced) return;
    this.#unbuilt ??= new Set();
    this.#deferring = true;
    this.#endpoints.deferAddresses();
  }

  /** Builds about `services` Services of the first load; returns whether any remain unbuilt. */
  buildSome(services: number): boolean {
    const unbuilt = this.#unbuilt;
    if (unbuilt === null || this.#deferring) return false;
    let built = 0;
    for (const key of unbuilt) {
      if (built++ >= services) return true;
      unbuilt.delete(key);
      this.#rebuild(key);
    }
    this.#unbuilt = null;
    return false;
  }

  /**
   * Files about `addresses` endpoint addresses of the first load for PTRs; returns whether any
   * remain. A read by address files the rest at once, so answers never depend on this: it only
   * spreads the work over the turns after the first sync (see EndpointIndex).
   */
  fileAddresses(addresses: number): boolean {
    return this.#endpoints.fileSome(addresses);
  }

  /** Answers count from now on; Services of the first load still unbuilt are built by buildSome or when read. */
  markSynced(): void {
    this.#deferring = false;
    this.#synced = true;
  }

  /**
   * Builds what a read of `name` needs among the Services still unbuilt: a name under
   * <service>.<namespace>.svc has records from that Service alone; a reverse name, the apex, a
   * namespace or a shape the parser refuses could have them from any, so all are built.
   */
  #buildFor(name: string): void {
    const unbuilt = this.#unbuilt;
    if (unbuilt === null || this.#deferring) return;
    const request = parseName(name, this.zone);
    if (request.kind === "outside" || request.kind === "pod" || request.kind === "dns-version") return;
    if (request.kind === "svc" && request.service !== "") {
      const key = objectKey(request.namespace, request.service);
      if (unbuilt.delete(key)) this.#rebuild(key);
      return;
    }
    this.buildSome(Infinity);
  }

  /** The zone's SOA serial: it moves whenever an answer could change. */
  get serial(): number {
    return this.#changes.serial;
  }

  /** The SOA of the cluster zone or a reverse zone (see ZoneChanges.soa). */
  soa(zone: string): RRSet {
    return this.#changes.soa(zone);
  }

  /** The scope whose generation moves when an answer about `name` could change (see ZoneChanges.scopeOf). */
  scopeOf(name: string): Generation {
    // Built first, so the scope is taken after the build's change, not before it.
    this.#buildFor(name);
    return this.#changes.scopeOf(name);
  }

  lookup(name: string): NameEntry | undefined {
    this.#buildFor(name);
    const entry = this.#names.get(name);
    if (name.endsWith(".arpa")) return this.#withEndpointPTRs(name, entry);
    if (entry !== undefined) return entry;
    const ips = this.#endpoints.addresses(name);
    return ips.length === 0 ? undefined : { rrsets: nameRecords(addressRecords(ips, this.ttl)) };
  }

  /** The PTRs of a reverse name: the ClusterIPs' from the entry, then the endpoint names'. */
  #withEndpointPTRs(name: string, entry: NameEntry | undefined): NameEntry | undefined {
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
    this.buildSome(Infinity);
    const names: string[] = [];
    for (const ip of this.#serverAddresses) {
      for (const service of this.#endpoints.servicesWith(ip)) if (!names.includes(service)) names.push(service);
    }
    const found = names.map((name) => ({ name, addresses: this.#names.addressesAt(name) }));
    if (found.length > 0) return found;
    if (this.#serverAddresses.length === 0) return [];
    return [{ name: `ns.dns.${this.zone}`, addresses: this.#serverAddresses }];
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  /** Whether a Pod in `namespace` has this address (canonical form); only `pods verified` tracks Pods. */
  hasPodIP(namespace: string, ip: string): boolean {
    return this.#podIPs.has(namespace, ip);
  }

  /** The one live Pod with this address (canonical form), null when none or several have it; only `pods verified` tracks Pods. */
  podAt(ip: string): PodAtAddress | null {
    return this.#podIPs.soleOwner(ip);
  }

  upsertNamespace(namespace: Namespace): void {
    if (this.#namespaces.has(namespace.name) || !this.#serves(namespace.name)) return;
    this.#namespaces.add(namespace.name);
    this.#changes.changed(namespace.name, false);
  }

  deleteNamespace(name: string): void {
    if (!this.#namespaces.delete(name)) return;
    this.#changes.changed(name, false);
    this.#changes.forgetNamespace(name);
  }

  /** A Pod's addresses, for `pods verified`; in the other modes Pods are not kept. */
  upsertPod(pod: Pod): void {
    if (this.pods !== "verified" || !this.#serves(pod.namespace)) return;
    if (this.#podIPs.upsert(pod)) this.#changes.changed(pod.namespace, false);
  }

  deletePod(namespace: string, name: string): void {
    if (this.pods !== "verified") return;
    if (this.#podIPs.delete(namespace, name)) this.#changes.changed(namespace, false);
  }

  upsertService(service: Service): void {
    if (!this.#serves(service.namespace)) return;
    this.#touched(this.#objects.upsertService(service));
  }

  deleteService(namespace: string, name: string): void {
    const key = this.#objects.deleteService(namespace, name);
    if (key !== null) this.#touched(key);
  }

  upsertEndpointSlice(slice: DnsEndpointSlice): void {
    if (!this.#keepSlices || !this.#serves(slice.namespace)) return;
    for (const key of this.#objects.upsertSlice(slice)) this.#touched(key);
  }

  deleteEndpointSlice(namespace: string, name: string): void {
    const key = this.#objects.deleteSlice(namespace, name);
    if (key !== null) this.#touched(key);
  }

  #serves(namespace: string): boolean {
    return this.#exposed === null || this.#exposed.has(namespace);
  }

  #touched(serviceKey: string): void {
    if (this.#deferring) {
      this.#unbuilt?.add(serviceKey);
      return;
    }
    this.#unbuilt?.delete(serviceKey);
    this.#rebuild(serviceKey);
  }

  #rebuild(serviceKey: string): void {
    const service = this.#objects.service(serviceKey);
    const slices = this.#objects.slices(serviceKey);
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
          this.#names.removeSource(name, serviceKey);
          changed = true;
        }
      }
      for (const [name, records] of after) {
        if (sameNameRecords(this.#names.recordsFrom(name, serviceKey), records)) continue;
        this.#names.setSource(name, serviceKey, records);
        changed = true;
      }
      return changed;
    };
    const endpoints = this.#replaceEndpoints(previous.endpoints, next.endpoints);
    const names = apply(previous.names, next.names) || endpoints;
    const reverse = apply(previous.reverse, next.reverse) || endpoints;
    if (next === EMPTY_SERVICE_RECORDS) this.#built.delete(serviceKey);
    else this.#built.set(serviceKey, { names: [...next.names.keys()], reverse: [...next.reverse.keys()], endpoints: next.endpoints });
    if (names || reverse) this.#changes.changed(names ? serviceKey.slice(0, serviceKey.indexOf("/")) : null, reverse);
  }

  /** Swaps one Service's endpoint table; while it has one, the Service's name exists. */
  #replaceEndpoints(previous: EndpointNames | null, next: EndpointNames | null): boolean {
    if (!this.#endpoints.replace(previous, next)) return false;
    if (previous === null && next !== null) this.#names.addChild(next.service);
    if (previous !== null && next === null) this.#names.removeChild(previous.service);
    return true;
  }
}
