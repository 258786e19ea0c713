// The reverse zones the cluster answers, as CoreDNS's `kubernetes cluster.local in-addr.arpa
// ip6.arpa` with `fallthrough`: PTR questions for addresses in the configured CIDRs (the
// Service and Pod ranges) are the cluster's, answered from its records; the rest are not the
// cluster's and go upstream. A name of the cluster's reverse zones that it lacks goes upstream
// too when its zone falls through, and is NXDOMAIN otherwise.
import { cidrContains } from "../model/ip.ts";
import { inZones } from "./hosts-table.ts";

export class ReverseZones {
  readonly #cidrs: readonly string[] | null;
  readonly #fallthrough: readonly string[];

  /** `cidrs` null: every address is the cluster's (a reverse name that is not a whole address too). */
  constructor(cidrs: readonly string[] | null, fallthrough: readonly string[]) {
    this.#cidrs = cidrs;
    this.#fallthrough = fallthrough;
  }

  /** Whether the cluster answers the reverse name of `ip` (null: a name that is not a whole address). */
  serves(ip: string | null): boolean {
    if (this.#cidrs === null) return true;
    return ip !== null && this.#cidrs.some((cidr) => cidrContains(cidr, ip));
  }

  /** Whether a reverse name the cluster lacks goes on upstream. */
  fallsThrough(name: string): boolean {
    return inZones(name, this.#fallthrough);
  }
}
