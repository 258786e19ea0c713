// Every Service's endpoint table, found by the Service's name (for an endpoint name) and by
// address (for a PTR). An address in several Services' tables points at each of them, in the
// order they got it.
//
// Filing by address can wait: at 100,000 endpoints it is 100,000 Map entries, some 90 ms of
// the first load here, and only a PTR or an NS question reads it. After deferAddresses, tables
// queue instead (in the order they came, so the order above holds); the first read by address
// files every queued one, and fileSome files a few at a time meanwhile.
import { addressesNamed, type EndpointNames, namesOf, sameEndpointNames } from "./endpoint-names.ts";

export class EndpointIndex {
  readonly #byService = new Map<string, EndpointNames>();
  readonly #byIP = new Map<string, EndpointNames | EndpointNames[]>();
  /** Tables not yet filed by address, oldest first; null when every table is filed. */
  #unfiled: Set<EndpointNames> | null = null;

  /** From now until the queue drains, tables are filed by address later (see the top of this file). */
  deferAddresses(): void {
    this.#unfiled ??= new Set();
  }

  /** Puts `next` where `previous` was (one Service's tables); false when they are the same. */
  replace(previous: EndpointNames | null, next: EndpointNames | null): boolean {
    if (sameEndpointNames(previous, next)) return false;
    if (previous !== null) {
      this.#byService.delete(previous.service);
      if (this.#unfiled?.delete(previous) !== true) for (const ip of previous.ips) this.#unindex(ip, previous);
    }
    if (next !== null) {
      this.#byService.set(next.service, next);
      if (this.#unfiled !== null) this.#unfiled.add(next);
      else for (const ip of next.ips) this.#index(ip, next);
    }
    return true;
  }

  /**
   * Files queued tables until about `addresses` addresses are filed; returns whether any
   * remain. When none remain, tables are filed as they come again.
   */
  fileSome(addresses: number): boolean {
    const unfiled = this.#unfiled;
    if (unfiled === null) return false;
    let filed = 0;
    for (const table of unfiled) {
      if (filed >= addresses) return true;
      unfiled.delete(table);
      for (const ip of table.ips) this.#index(ip, table);
      filed += table.ips.length;
    }
    this.#unfiled = null;
    return false;
  }

  /** The addresses of endpoint name `name` (<label>.<service name>); empty when it names none. */
  addresses(name: string): string[] {
    const dot = name.indexOf(".");
    if (dot <= 0) return [];
    const table = this.#byService.get(name.slice(dot + 1));
    return table === undefined ? [] : addressesNamed(table, name.slice(0, dot));
  }

  /** The endpoint names with address `ip`, over every Service. */
  namesOf(ip: string): string[] {
    const owners = this.#owners(ip);
    if (owners === undefined) return [];
    return Array.isArray(owners) ? owners.flatMap((t) => namesOf(t, ip)) : namesOf(owners, ip);
  }

  /** The names of the Services that have an endpoint with address `ip`, each once. */
  servicesWith(ip: string): string[] {
    const owners = this.#owners(ip);
    if (owners === undefined) return [];
    return Array.isArray(owners) ? [...new Set(owners.map((t) => t.service))] : [owners.service];
  }

  #owners(ip: string): EndpointNames | EndpointNames[] | undefined {
    if (this.#unfiled !== null) this.fileSome(Infinity);
    return this.#byIP.get(ip);
  }

  #index(ip: string, table: EndpointNames): void {
    const owners = this.#byIP.get(ip);
    if (owners === undefined) this.#byIP.set(ip, table);
    else if (Array.isArray(owners)) {
      if (!owners.includes(table)) owners.push(table);
    } else if (owners !== table) this.#byIP.set(ip, [owners, table]);
  }

  #unindex(ip: string, table: EndpointNames): void {
    const owners = this.#byIP.get(ip);
    if (owners === table) this.#byIP.delete(ip);
    else if (Array.isArray(owners)) {
      const rest = owners.filter((t) => t !== table);
      const [only] = rest;
      if (rest.length === 1 && only !== undefined) this.#byIP.set(ip, only);
      else if (rest.length === 0) this.#byIP.delete(ip);
      else this.#byIP.set(ip, rest);
    }
  }
}
