// The endpoint names of one Service (<hostname or dashed address>.<svc>.<ns>.svc.<zone>) and
// the PTRs of their addresses, kept as two parallel arrays instead of a record set per name.
// At 100,000 endpoints the names and PTRs are most of what a cluster's DNS holds, and every
// one of them is derived from an address the EndpointSlice already carries: the store keeps
// the addresses and builds the records of a name when it is asked for (the answer cache keeps
// the encoded answer after that).
import { dashedName, ipFromPodLabel } from "./ip-names.ts";

export interface EndpointNames {
  /** The Service's own name, <svc>.<ns>.svc.<zone>, lower-case. */
  readonly service: string;
  /** The canonical address of each named endpoint, in slice order; an address twice only under two hostnames. */
  readonly ips: readonly string[];
  /** The hostname of each (lower-case), "" for one named by its dashed address; null when none has one. */
  readonly hostnames: readonly string[] | null;
}

export interface NamedEndpoint {
  /** The endpoint's hostname, lower-case, or "". */
  readonly hostname: string;
  readonly ip: string;
}

/** The table of `endpoints`, or null when there are none. */
export function endpointNames(service: string, endpoints: readonly NamedEndpoint[]): EndpointNames | null {
  if (endpoints.length === 0) return null;
  const anyHostname = endpoints.some((e) => e.hostname !== "");
  return {
    service,
    ips: endpoints.map((e) => e.ip),
    hostnames: anyHostname ? endpoints.map((e) => e.hostname) : null,
  };
}

/** The label of the i-th endpoint: its hostname, or its address with dashes. */
function labelAt(table: EndpointNames, i: number): string {
  const hostname = table.hostnames?.[i] ?? "";
  return hostname !== "" ? hostname : dashedName(table.ips[i] ?? "");
}

/** The addresses named `label` in the table, in table order; empty when the label names none. */
export function addressesNamed(table: EndpointNames, label: string): string[] {
  // A dashed label stands for one address, spelled exactly as dashedName spells it.
  const fromLabel = ipFromPodLabel(label);
  const dashed = fromLabel !== null && dashedName(fromLabel) === label ? fromLabel : null;
  const out: string[] = [];
  table.ips.forEach((ip, i) => {
    const hostname = table.hostnames?.[i] ?? "";
    if (hostname !== "" ? hostname === label : ip === dashed) out.push(ip);
  });
  return out;
}

/** The endpoint names that have address `ip`, each once. */
export function namesOf(table: EndpointNames, ip: string): string[] {
  const out: string[] = [];
  table.ips.forEach((candidate, i) => {
    if (candidate !== ip) return;
    const name = `${labelAt(table, i)}.${table.service}`;
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

export function sameEndpointNames(a: EndpointNames | null, b: EndpointNames | null): boolean {
  if (a === null || b === null) return a === b;
  return a.service === b.service && sameList(a.ips, b.ips) && sameList(a.hostnames ?? [], b.hostnames ?? []);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
