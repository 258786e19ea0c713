// The record store's change log: the zone's SOA serial and the generations that cached answers
// are checked against. Every change moves the serial and the generation of the scope it touched
// (a namespace, the reverse zones), so answers cached about other namespaces stay valid.
import { type RRSet, TYPE } from "./records.ts";

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

export class ZoneChanges {
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #svcSuffix: string;
  readonly #podSuffix: string;
  #serial: number;
  /** Scopes of cached answers: each namespace that holds data, the reverse zones, the rest. */
  readonly #namespaceGenerations = new Map<string, MutableGeneration>();
  /** Names in namespaces that hold nothing: moves when a namespace starts to hold something. */
  readonly #absentNamespaces: MutableGeneration = { value: 0 };
  readonly #reverseGeneration: MutableGeneration = { value: 0 };
  /** The apex, svc.<zone>, pod.<zone> and other names: they follow the serial. */
  readonly #zoneGeneration: MutableGeneration = { value: 0 };
  /** SOA record sets by zone, remade when the serial moves, so each is encoded once. */
  readonly #soa = new Map<string, { serial: number; set: RRSet }>();

  /** zone: the cluster zone; ttl: the records' TTL; now: milliseconds since the epoch. */
  constructor(zone: string, ttl: number, now: () => number) {
    this.#now = now;
    this.#ttl = ttl;
    this.#svcSuffix = `.svc.${zone}`;
    this.#podSuffix = `.pod.${zone}`;
    this.#serial = Math.floor(now() / 1000) >>> 0;
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
          ttl: Math.min(this.#ttl, 300),
          primary: `ns.dns.${zone}`,
          admin: `hostmaster.${zone}`,
          serial: this.#serial,
          refresh: 7200,
          retry: 1800,
          expire: 86400,
          minimum: this.#ttl,
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

  /** Moves the serial, and the generations of the scopes whose answers may have changed. */
  changed(namespace: string | null, reverse: boolean): void {
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

  /**
   * Drops a deleted namespace's scope: answers cached in it hold the old object and stay stale;
   * a namespace made again under the same name starts a new one (and moves the absent scope).
   */
  forgetNamespace(name: string): void {
    this.#namespaceGenerations.delete(name);
  }
}

/** "ns" for "x.ns.svc.<zone>" and "ns.svc.<zone>" with suffix ".svc.<zone>"; null otherwise. */
function namespaceOf(name: string, suffix: string): string | null {
  if (!name.endsWith(suffix) || name.length === suffix.length) return null;
  const end = name.length - suffix.length;
  return name.slice(name.lastIndexOf(".", end - 1) + 1, end);
}
