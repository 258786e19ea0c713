// Names and addresses from hosts(5) text, as CoreDNS's hosts plugin serves them: A and AAAA for
// each name, PTR for each address (unless reverse names are off), and the answer decided by
// name alone: a name with entries is answered (NODATA for a type it lacks), a name without is
// NXDOMAIN in the table's zones, or passed on when `fallthrough` covers it.
import { canonicalIP } from "../model/ip.ts";
import { ipFromReverseName } from "./ip-names.ts";
import { RCODE, type Reply, type RRSet, TYPE } from "./records.ts";

export interface HostsAddresses {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
}

export interface HostsTable {
  /** Lower-case names without the trailing dot. */
  readonly byName: ReadonlyMap<string, HostsAddresses>;
  /** Canonical addresses to the names that have them, in the order they were read. */
  readonly byAddress: ReadonlyMap<string, readonly string[]>;
  /**
   * `*.example.com` entries by their parent ("example.com"): a name one label below the parent
   * that has no entry of its own gets these addresses (not the parent, not two labels below),
   * as CoreDNS's hosts wildcards. They give no PTR.
   */
  readonly wildcards: ReadonlyMap<string, HostsAddresses>;
}

/** A line that was not an address followed by names, with its number (from 1). */
export interface HostsLineError {
  readonly line: number;
  readonly reason: string;
}

const NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Reads hosts(5) text: `ADDRESS NAME [ALIAS...]`, `#` comments; bad lines are reported and skipped. */
export function parseHosts(text: string): { table: HostsTable; errors: HostsLineError[] } {
  const byName = new Map<string, { v4: string[]; v6: string[] }>();
  const byAddress = new Map<string, string[]>();
  const wildcards = new Map<string, { v4: string[]; v6: string[] }>();
  const errors: HostsLineError[] = [];
  text.split("\n").forEach((raw, i) => {
    const fields = (raw.split("#", 1)[0] ?? "").trim().split(/\s+/).filter((f) => f !== "");
    const [first, ...names] = fields;
    if (first === undefined) return;
    // A zone index (fe80::1%eth0) means nothing to a DNS client: the address is read without it.
    const address = canonicalIP(first.split("%", 1)[0] ?? "");
    if (address === null) return void errors.push({ line: i + 1, reason: `"${first}" is not an IP address` });
    if (names.length === 0) return void errors.push({ line: i + 1, reason: `${first} has no name` });
    for (const text of names) {
      const lower = text.toLowerCase().replace(/\.$/, "");
      const wildcard = lower.startsWith("*.");
      const name = wildcard ? lower.slice(2) : lower;
      if (!NAME.test(name)) {
        errors.push({ line: i + 1, reason: `"${text}" is not a host name` });
        continue;
      }
      const table = wildcard ? wildcards : byName;
      const entry = table.get(name) ?? { v4: [], v6: [] };
      table.set(name, entry);
      const list: string[] = address.includes(":") ? entry.v6 : entry.v4;
      if (!list.includes(address)) list.push(address);
      if (wildcard) continue;
      const owners = byAddress.get(address) ?? [];
      byAddress.set(address, owners);
      if (!owners.includes(name)) owners.push(name);
    }
  });
  return { table: { byName, byAddress, wildcards }, errors };
}

/** The inline entries over the file's: a name given inline keeps only its inline addresses, as CoreDNS overrides them. */
export function mergeHosts(file: HostsTable, inline: HostsTable): HostsTable {
  if (file.byName.size === 0 && file.wildcards.size === 0) return inline;
  if (inline.byName.size === 0 && inline.wildcards.size === 0) return file;
  const wildcards = new Map([...file.wildcards, ...inline.wildcards]);
  const byName = new Map(file.byName);
  for (const [name, addresses] of inline.byName) byName.set(name, addresses);
  const byAddress = new Map<string, string[]>();
  for (const [name, { v4, v6 }] of byName) {
    for (const address of [...v4, ...v6]) {
      const owners = byAddress.get(address) ?? [];
      byAddress.set(address, owners);
      owners.push(name);
    }
  }
  return { byName, byAddress, wildcards };
}

export const EMPTY_HOSTS: HostsTable = { byName: new Map(), byAddress: new Map(), wildcards: new Map() };

/** The entry of `name`: its own, else a wildcard of its parent. */
function entryOf(table: HostsTable, name: string): HostsAddresses | undefined {
  const own = table.byName.get(name);
  if (own !== undefined || table.wildcards.size === 0) return own;
  const dot = name.indexOf(".");
  return dot < 0 ? undefined : table.wildcards.get(name.slice(dot + 1));
}

export interface HostsAnswerOptions {
  /** Zones the table answers for, lower-case without the trailing dot; "." is every name. */
  readonly zones: readonly string[];
  readonly ttl: number;
  /** Answer PTR from the entries' addresses. */
  readonly reverse: boolean;
  /** Zones where a name the table lacks goes on to the next source; empty: none. */
  readonly fallthrough: readonly string[];
}

export function inZones(name: string, zones: readonly string[]): boolean {
  return zones.some((z) => z === "." || name === z || name.endsWith(`.${z}`));
}

/** The reply for `name`, or null when the next source (the cluster, the upstream) answers it. */
export function answerFromHosts(table: HostsTable, name: string, qtype: number, options: HostsAnswerOptions): Reply | null {
  if (qtype === TYPE.PTR) {
    // Reverse names need no zone: an address the table lacks always goes on, as CoreDNS's does.
    const ip = options.reverse ? ipFromReverseName(name) : null;
    const owners = ip === null ? undefined : table.byAddress.get(ip);
    if (owners === undefined) return null;
    return positive([{ type: TYPE.PTR, owner: null, records: owners.map((target) => ({ type: "PTR", ttl: options.ttl, target })), additional: [] }]);
  }
  if (!inZones(name, options.zones)) return null;
  const entry = entryOf(table, name);
  if (entry === undefined) {
    if (inZones(name, options.fallthrough)) return null;
    return { rcode: RCODE.NXDOMAIN, authoritative: true, answer: [], authority: [], additional: [] };
  }
  if (qtype === TYPE.A && entry.v4.length > 0) return positive([addressSet("A", entry.v4, options.ttl)]);
  if (qtype === TYPE.AAAA && entry.v6.length > 0) return positive([addressSet("AAAA", entry.v6, options.ttl)]);
  // The name exists: other types have no data here (NODATA), as CoreDNS answers them.
  return positive([]);
}

function addressSet(type: "A" | "AAAA", addresses: readonly string[], ttl: number): RRSet {
  return { type: TYPE[type], owner: null, records: addresses.map((address) => ({ type, ttl, address })), additional: [] };
}

function positive(answer: readonly RRSet[]): Reply {
  return { rcode: RCODE.NOERROR, authoritative: true, answer, authority: [], additional: [] };
}
