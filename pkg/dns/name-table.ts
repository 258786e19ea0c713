// The names of the cluster zone and their record sets, as the record store keeps them. A name's
// records come from the Services that build them (its sources): nearly always one, and more only
// where Services share a name (a PTR for an address two Services have). Names below
// svc.<zone> also exist while a name below them does (empty non-terminals, RFC 8020), so a
// query for one is NODATA, not NXDOMAIN. These change together on every Service rebuild.
import { type DnsRecord, NO_RRSETS, type RRSet } from "./records.ts";
import type { NameRecords } from "./service-records.ts";

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

export class NameTable {
  readonly #entries = new Map<string, Entry>();
  /** Everything below this suffix takes part in empty-non-terminal tracking. */
  readonly #svcSuffix: string;

  /** zone: the cluster zone, lower-case, without the root dot. */
  constructor(zone: string) {
    this.#svcSuffix = `.svc.${zone}`;
  }

  get(name: string): NameEntry | undefined {
    return this.#entries.get(name);
  }

  /** The A and AAAA addresses at a name. */
  addressesAt(name: string): string[] {
    const out: string[] = [];
    for (const set of this.#entries.get(name)?.rrsets ?? NO_RRSETS) {
      for (const r of set.records) if (r.type === "A" || r.type === "AAAA") out.push(r.address);
    }
    return out;
  }

  /** The records a name has from one source. */
  recordsFrom(name: string, source: string): NameRecords | undefined {
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    return entry.source === source ? entry.sets : entry.more?.get(source);
  }

  setSource(name: string, source: string, records: NameRecords): void {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = new Entry();
      this.#entries.set(name, entry);
      this.addChild(parentOf(name));
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

  removeSource(name: string, source: string): void {
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

  /** Makes a name exist because one more name below it does (below svc.<zone> only). */
  addChild(name: string): void {
    if (!this.#tracksEmptyNonTerminal(name)) return;
    const entry = this.#entries.get(name);
    if (entry !== undefined) {
      entry.children++;
      return;
    }
    const created = new Entry();
    created.children = 1;
    this.#entries.set(name, created);
    this.addChild(parentOf(name));
  }

  /** Undoes one addChild(name). */
  removeChild(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || !this.#tracksEmptyNonTerminal(name)) return;
    entry.children--;
    this.#dropIfEmpty(name, entry);
  }

  #dropIfEmpty(name: string, entry: Entry): void {
    if (entry.source !== "" || entry.children > 0) return;
    this.#entries.delete(name);
    this.removeChild(parentOf(name));
  }

  /** Names below svc.<zone> exist while a name below them does (RFC 8020 cuts NXDOMAIN trees). */
  #tracksEmptyNonTerminal(name: string): boolean {
    return name.endsWith(this.#svcSuffix);
  }
}

function parentOf(name: string): string {
  return name.slice(name.indexOf(".") + 1);
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
