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
  /** PTR records by reverse name, for the ClusterIPs. */
  readonly reverse: ReadonlyMap<string, readonly DnsRecord[]>;
  /** The endpoint names and the PTRs of their addresses; null when no endpoint is named. */
  readonly endpoints: EndpointNames | null;
}

export interface RecordOptions {
  readonly zone: string;
  readonly ttl: number;
}

export const EMPTY_SERVICE_RECORDS: ServiceRecords = { names: new Map(), reverse: new Map(), endpoints: null };

export function buildServiceRecords(
  service: Service,
  slices: Iterable<DnsEndpointSlice>,
  options: RecordOptions,
): ServiceRecords {
  const { ttl } = options;
  const serviceName = `${service.name}.${service.namespace}.svc.${options.zone}`.toLowerCase();
  const names = new Map<string, NameRecords>();
  const reverse = new Map<string, DnsRecord[]>();
  const addPTR = (ip: string, target: string) => {
    const name = reverseName(ip);
    if (name === null) return;
    const list = reverse.get(name) ?? [];
    if (!list.some((r) => r.type === "PTR" && r.target === target)) list.push({ type: "PTR", ttl, target });
    reverse.set(name, list);
  };

  if (service.type === "ExternalName") {
    const target = service.externalName.toLowerCase().replace(/\.$/, "");
    // An address in externalName is a misuse the API server lets through; CoreDNS serves nothing.
    if (target !== "" && canonicalIP(target) === null) {
      names.set(serviceName, nameRecords([{ type: "CNAME", ttl, target }]));
    }
    return { names, reverse, endpoints: null };
  }

  const sliceList = [...slices].filter((s) => s.addressType !== "FQDN");
  const include = (ready: boolean) => ready || service.publishNotReadyAddresses;
  const endpoints = collectEndpoints(sliceList, include);

  // Every served endpoint gets a name and a PTR: in the table, not as records. Only a headless
  // Service's SRV records point at endpoint names, whose addresses their glue then needs.
  const byLabel = new Map<string, string[]>();
  if (service.headless) {
    for (const ep of endpoints) {
      const label = labelOf(ep);
      const list = byLabel.get(label) ?? [];
      if (!list.includes(ep.ip)) list.push(ep.ip);
      byLabel.set(label, list);
    }
  }

  const srvByPort = new Map<string, { port: number; target: string }[]>();
  const addSRV = (portName: string, protocol: string, port: number, target: string) => {
    const key = `_${portName}._${protocol.toLowerCase()}`;
    const list = srvByPort.get(key) ?? [];
    if (!list.some((s) => s.port === port && s.target === target)) list.push({ port, target });
    srvByPort.set(key, list);
  };

  let serviceAddresses: string[];
  if (service.headless) {
    serviceAddresses = [...new Set(endpoints.map((e) => e.ip))];
    for (const slice of sliceList) {
      const labels = collectEndpoints([slice], include).map((e) => `${labelOf(e)}.${serviceName}`);
      for (const port of slice.ports) {
        if (port.name === "") continue;
        for (const target of labels) addSRV(port.name, port.protocol, port.port, target);
      }
    }
  } else {
    serviceAddresses = service.clusterIPs.flatMap((ip) => canonicalIP(ip) ?? []);
    for (const ip of serviceAddresses) addPTR(ip, serviceName);
    for (const port of service.ports) {
      if (port.name !== "") addSRV(port.name, port.protocol, port.port, serviceName);
    }
  }

  // One glue record set per target, shared by every SRV name that points there.
  const glueByTarget = new Map<string, RRSet[]>();
  const glueOf = (target: string): RRSet[] => {
    let sets = glueByTarget.get(target);
    if (sets === undefined) {
      const ips = target === serviceName ? serviceAddresses : (byLabel.get(target.slice(0, target.indexOf("."))) ?? []);
      sets = toRRSets(target, addressRecords(ips, ttl));
      glueByTarget.set(target, sets);
    }
    return sets;
  };
  const glueFor = (targets: Iterable<string>): RRSet[] => {
    const unique = [...new Set(targets)];
    const [only] = unique;
    return unique.length === 1 && only !== undefined ? glueOf(only) : unique.flatMap(glueOf);
  };

  const allSRV: { port: number; target: string }[] = [];
  for (const [prefix, list] of srvByPort) {
    names.set(`${prefix}.${serviceName}`, nameRecords(srvRecords(list, ttl), glueFor(list.map((s) => s.target))));
    for (const s of list) if (!allSRV.some((o) => o.port === s.port && o.target === s.target)) allSRV.push(s);
  }

  const own: DnsRecord[] = [...addressRecords(serviceAddresses, ttl), ...srvRecords(allSRV, ttl)];
  if (own.length > 0) {
    const hasSRV = allSRV.length > 0;
    names.set(serviceName, nameRecords(own, hasSRV ? glueFor(allSRV.map((s) => s.target)) : NO_RRSETS));
  }
  return { names, reverse, endpoints: endpointNames(serviceName, endpoints) };
}

/** The endpoint's label: its hostname, or its address with dashes. */
function labelOf(endpoint: NamedEndpoint): string {
  return endpoint.hostname !== "" ? endpoint.hostname : dashedName(endpoint.ip);
}

/**
 * The endpoints a Service serves, in slice order, without repeats (the same label at the same
 * address). A hostname that spells the address with dashes is the name the endpoint has anyway,
 * and is dropped; so an endpoint without a hostname is told apart by its address alone, and no
 * dashed name is built here.
 */
function collectEndpoints(slices: readonly DnsEndpointSlice[], include: (ready: boolean) => boolean): NamedEndpoint[] {
  const out: NamedEndpoint[] = [];
  const seen = new Set<string>();
  const add = (address: string, givenHostname: string): void => {
    const canonical = canonicalIP(address);
    if (canonical === null) return;
    // The API's own string when it is already canonical (nearly always): one copy per endpoint fewer.
    const ip = canonical === address ? address : canonical;
    const hostname = givenHostname !== "" && givenHostname !== dashedName(ip) ? givenHostname : "";
    const key = hostname === "" ? ip : `${hostname}/${ip}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ hostname, ip });
  };
  for (const slice of slices) {
    for (const endpoint of slice.endpoints) {
      // An endpoint kept as its address is ready and has no hostname (dns-slice.ts).
      if (typeof endpoint === "string") add(endpoint, "");
      else if (include(endpoint.ready)) {
        const hostname = endpoint.hostname.toLowerCase();
        for (const address of endpoint.addresses) add(address, hostname);
      }
    }
  }
  return out;
}

export function addressRecords(ips: readonly string[], ttl: number): DnsRecord[] {
  return [...ips].sort().map((address) =>
    address.includes(":") ? { type: "AAAA", ttl, address } : { type: "A", ttl, address },
  );
}

/** Equal weights summing to about 100 at one priority, as CoreDNS gives them. */
function srvRecords(list: readonly { port: number; target: string }[], ttl: number): DnsRecord[] {
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
