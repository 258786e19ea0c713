// The records one Service owns, computed from the Service and its EndpointSlices by a pure
// function: the record store calls it whenever either changes and swaps the result in. Rules are
// the Kubernetes DNS specification 1.1.0 plus CoreDNS's conventions, which name every ready
// endpoint (hostname or dashed IP) and give its address a PTR, for headless and ClusterIP alike.
// Those endpoint names and PTRs are not built here as records: they come back as a compact
// table (endpoint-names.ts), from which the store answers them when asked.
import type { Service } from "../model/types.ts";
import type { DnsEndpointSlice } from "./dns-slice.ts";
import { endpointNames, type EndpointNames, type NamedEndpoint } from "./endpoint-names.ts";
import { canonicalIP } from "../model/ip.ts";
import { dashedName, reverseName } from "./ip-names.ts";
import { type DnsRecord, NO_RRSETS, type RRSet, toRRSets, TYPE } from "./records.ts";

/**
 * The record sets one Service puts at one name, one per type; an SRV set carries the
 * addresses of its targets for the additional section.
 */
export type NameRecords = readonly RRSet[];

export interface ServiceRecords {
  /** The Service's name and its SRV names, lower-case, without the trailing dot. */
  readonly names: ReadonlyMap<string, NameRecords>;
  /** The PTR record set of each ClusterIP, by reverse name. */
  readonly reverse: ReadonlyMap<string, NameRecords>;
  /** The endpoint names and the PTRs of their addresses; null when no endpoint is named. */
  readonly endpoints: EndpointNames | null;
}

export interface RecordOptions {
  readonly zone: string;
  readonly ttl: number;
}

export const EMPTY_SERVICE_RECORDS: ServiceRecords = { names: new Map(), reverse: new Map(), endpoints: null };

/** One SRV record to be: a port at a target name. */
interface SrvTarget {
  readonly port: number;
  readonly target: string;
}

// Built once for every Service of the first list (10,000 at a time at scale), so this allocates
// as little as it can: no closures per call, no Map where a Service has one entry, no copies of
// lists it owns. A profile of a 10,000-Service start had it at 16 KiB allocated per Service.
export function buildServiceRecords(
  service: Service,
  slices: readonly DnsEndpointSlice[],
  options: RecordOptions,
): ServiceRecords {
  const { ttl } = options;
  const serviceName = `${service.name}.${service.namespace}.svc.${options.zone}`.toLowerCase();
  const names = new Map<string, NameRecords>();

  if (service.type === "ExternalName") {
    const target = service.externalName.toLowerCase().replace(/\.$/, "");
    // An address in externalName is a misuse the API server lets through; CoreDNS serves nothing.
    if (target !== "" && canonicalIP(target) === null) {
      names.set(serviceName, nameRecords([{ type: "CNAME", ttl, target }]));
    }
    return { names, reverse: EMPTY_SERVICE_RECORDS.reverse, endpoints: null };
  }

  const publishNotReady = service.publishNotReadyAddresses;
  const endpoints = collectEndpoints(slices, publishNotReady);

  // Every served endpoint gets a name and a PTR: in the table, not as records. Only a headless
  // Service's SRV records point at endpoint names, whose addresses their glue then needs.
  const srvByPort = new Map<string, SrvTargets>();
  let serviceAddresses: string[];
  let byLabel: Map<string, string[]> | null = null;
  const reverse = new Map<string, NameRecords>();
  if (service.headless) {
    byLabel = new Map();
    for (const ep of endpoints) {
      const label = labelOf(ep);
      const list = byLabel.get(label);
      if (list === undefined) byLabel.set(label, [ep.ip]);
      else if (!list.includes(ep.ip)) list.push(ep.ip);
    }
    serviceAddresses = [...new Set(endpoints.map((e) => e.ip))];
    for (const slice of slices) {
      if (slice.addressType === "FQDN" || slice.ports.length === 0) continue;
      const targets = collectEndpoints([slice], publishNotReady).map((e) => `${labelOf(e)}.${serviceName}`);
      for (const port of slice.ports) {
        if (port.name === "") continue;
        for (const target of targets) addSRV(srvByPort, port.name, port.protocol, port.port, target);
      }
    }
  } else {
    serviceAddresses = [];
    for (const ip of service.clusterIPs) {
      const canonical = canonicalIP(ip);
      if (canonical === null) continue;
      serviceAddresses.push(canonical);
      const name = reverseName(canonical);
      // Two ClusterIPs are of two families: one PTR per reverse name.
      if (name !== null && !reverse.has(name)) reverse.set(name, [ptrSet(ttl, serviceName)]);
    }
    for (const port of service.ports) {
      if (port.name !== "") addSRV(srvByPort, port.name, port.protocol, port.port, serviceName);
    }
  }

  // One glue record set per target, shared by every SRV name that points there.
  const glue = new Glue(serviceName, serviceAddresses, byLabel, ttl);
  const allSRV = new SrvTargets();
  srvByPort.forEach(({ list }, prefix) => {
    names.set(`${prefix}.${serviceName}`, nameRecords(srvRecords(list, ttl), glue.of(list)));
    for (const s of list) allSRV.add(s.port, s.target);
  });

  const own = addressRecords(serviceAddresses, ttl);
  if (allSRV.list.length > 0) own.push(...srvRecords(allSRV.list, ttl));
  if (own.length > 0) {
    names.set(serviceName, nameRecords(own, allSRV.list.length > 0 ? glue.of(allSRV.list) : NO_RRSETS));
  }
  return { names, reverse, endpoints: endpointNames(serviceName, endpoints) };
}

/** Notes an SRV target under its _port._proto name, once. */
function addSRV(srvByPort: Map<string, SrvTargets>, portName: string, protocol: string, port: number, target: string): void {
  const key = `_${portName}._${protocol.toLowerCase()}`;
  let targets = srvByPort.get(key);
  if (targets === undefined) srvByPort.set(key, (targets = new SrvTargets()));
  targets.add(port, target);
}

/** Lists this long are searched through a Set: below it a scan allocates less. */
const SCAN_LIMIT = 16;

/**
 * SRV targets in first-seen order, each (port, target) once. A headless Service has one per
 * endpoint and port: thousands for a large StatefulSet, where a scan per addition made every
 * rebuild quadratic (0.7 s for 5,000 endpoints and two ports, the event loop held throughout).
 */
class SrvTargets {
  readonly list: SrvTarget[] = [];
  #keys: Set<string> | null = null;

  add(port: number, target: string): void {
    if (this.#keys === null) {
      if (this.list.some((s) => s.port === port && s.target === target)) return;
      this.list.push({ port, target });
      if (this.list.length >= SCAN_LIMIT) this.#keys = new Set(this.list.map((s) => `${s.port} ${s.target}`));
      return;
    }
    const key = `${port} ${target}`;
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.list.push({ port, target });
  }
}

function ptrSet(ttl: number, target: string): RRSet {
  return { type: TYPE.PTR, owner: null, records: [{ type: "PTR", ttl, target }], additional: NO_RRSETS };
}

/** The address record sets of SRV targets: the Service's own addresses, or an endpoint label's. */
class Glue {
  /** The glue of the Service's own name: the only target a Service with a ClusterIP has. */
  #own: RRSet[] | undefined;
  /** The glue of endpoint names, a headless Service's targets. */
  #sets: Map<string, RRSet[]> | undefined;
  readonly #serviceName: string;
  readonly #serviceAddresses: readonly string[];
  readonly #byLabel: ReadonlyMap<string, readonly string[]> | null;
  readonly #ttl: number;

  constructor(serviceName: string, serviceAddresses: readonly string[], byLabel: ReadonlyMap<string, readonly string[]> | null, ttl: number) {
    this.#serviceName = serviceName;
    this.#serviceAddresses = serviceAddresses;
    this.#byLabel = byLabel;
    this.#ttl = ttl;
  }

  /** The glue of the targets of `list`, each target's once, in first-seen order. */
  of(list: readonly SrvTarget[]): RRSet[] {
    const first = list[0]?.target;
    if (first === undefined) return [];
    if (list.every((s) => s.target === first)) return this.#target(first);
    const out: RRSet[] = [];
    const seen = new Set<string>();
    for (const { target } of list) {
      if (seen.has(target)) continue;
      seen.add(target);
      out.push(...this.#target(target));
    }
    return out;
  }

  #target(target: string): RRSet[] {
    if (target === this.#serviceName) return (this.#own ??= toRRSets(target, addressRecords(this.#serviceAddresses, this.#ttl)));
    let sets = this.#sets?.get(target);
    if (sets === undefined) {
      sets = toRRSets(target, addressRecords(this.#byLabel?.get(target.slice(0, target.indexOf("."))) ?? [], this.#ttl));
      (this.#sets ??= new Map()).set(target, sets);
    }
    return sets;
  }
}

/** The endpoint's label: its hostname, or its address with dashes. */
function labelOf(endpoint: NamedEndpoint): string {
  return endpoint.hostname !== "" ? endpoint.hostname : dashedName(endpoint.ip);
}

/**
 * The endpoints a Service serves, in slice order, without repeats (the same label at the same
 * address); not-ready ones only with publishNotReadyAddresses, and none from FQDN slices. A
 * hostname that spells the address with dashes is the name the endpoint has anyway, and is
 * dropped; so an endpoint without a hostname is told apart by its address alone, and no dashed
 * name is built here.
 */
function collectEndpoints(slices: readonly DnsEndpointSlice[], publishNotReady: boolean): NamedEndpoint[] {
  const out: NamedEndpoint[] = [];
  const seen = new Set<string>();
  // By index: at start this runs for every endpoint of the cluster before the JIT has compiled
  // it, and an iterator allocates a result object per element there.
  for (let s = 0; s < slices.length; s++) {
    const slice = slices[s];
    if (slice === undefined || slice.addressType === "FQDN") continue;
    const endpoints = slice.endpoints;
    for (let e = 0; e < endpoints.length; e++) {
      const endpoint = endpoints[e];
      // An endpoint kept as its address is ready and has no hostname (dns-slice.ts).
      if (typeof endpoint === "string") addEndpoint(out, seen, endpoint, "");
      else if (endpoint !== undefined && (endpoint.ready || publishNotReady)) {
        const hostname = endpoint.hostname.toLowerCase();
        for (const address of endpoint.addresses) addEndpoint(out, seen, address, hostname);
      }
    }
  }
  return out;
}

function addEndpoint(out: NamedEndpoint[], seen: Set<string>, address: string, givenHostname: string): void {
  const canonical = canonicalIP(address);
  if (canonical === null) return;
  // The API's own string when it is already canonical (nearly always): one copy per endpoint fewer.
  const ip = canonical === address ? address : canonical;
  const hostname = givenHostname !== "" && givenHostname !== dashedName(ip) ? givenHostname : "";
  const key = hostname === "" ? ip : `${hostname}/${ip}`;
  if (seen.has(key)) return;
  seen.add(key);
  out.push({ hostname, ip });
}

export function addressRecords(ips: readonly string[], ttl: number): DnsRecord[] {
  return [...ips].sort().map((address) =>
    address.includes(":") ? { type: "AAAA", ttl, address } : { type: "A", ttl, address },
  );
}

/** Equal weights summing to about 100 at one priority, as CoreDNS gives them. */
function srvRecords(list: readonly SrvTarget[], ttl: number): DnsRecord[] {
  const weight = Math.max(1, Math.floor(100 / Math.max(1, list.length)));
  return [...list]
    .sort((a, b) => (a.target === b.target ? a.port - b.port : a.target < b.target ? -1 : 1))
    .map(({ port, target }) => ({ type: "SRV", ttl, priority: 0, weight, port, target }));
}

/** The record sets of `records`, with `additional` as the glue of the SRV set. */
export function nameRecords(records: readonly DnsRecord[], additional: readonly RRSet[] = NO_RRSETS): NameRecords {
  const sets = toRRSets(null, records);
  if (additional.length === 0) return sets;
  // The sets are new: give the SRV set its glue in place rather than copy it.
  return sets.map((set) => (set.type === TYPE.SRV ? { type: set.type, owner: set.owner, records: set.records, additional } : set));
}

/** True when the two hold the same records and glue in the same order. */
export function sameNameRecords(a: NameRecords | undefined, b: NameRecords | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}
