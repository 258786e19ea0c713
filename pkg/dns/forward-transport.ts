// How one forward zone's queries travel, CoreDNS forward's force_tcp, prefer_udp and
// max_concurrent. signpost-dns asks over UDP first and again over TCP when the answer is
// truncated, whatever transport the client used (CoreDNS's prefer_udp); `preferUdp: false` asks
// over the client's transport (CoreDNS's default); `forceTcp` always asks over TCP. A zone with
// `maxConcurrent` refuses a query that would make more upstream queries in flight than that.
import { bareResponseFor } from "./cache-policy.ts";
import type { Transport } from "./query-handler.ts";
import { RCODE } from "./records.ts";

export interface ZoneTransport {
  readonly forceTcp: boolean;
  readonly preferUdp: boolean;
}

export const DEFAULT_ZONE_TRANSPORT: ZoneTransport = { forceTcp: false, preferUdp: true };

/** Whether a query from a client over `client` is first asked upstream over TCP. */
export function firstOverTcp(transport: ZoneTransport, client: Transport): boolean {
  return transport.forceTcp || (!transport.preferUdp && client === "tcp");
}

/** The upstream queries of one zone in flight, at most `max`; 0 leaves them unbounded. */
export class ConcurrentQueries {
  readonly max: number;
  #inFlight = 0;

  constructor(max: number) {
    this.max = max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Counts one more in flight; false (and nothing counted) when `max` already are. */
  enter(): boolean {
    if (this.max > 0 && this.#inFlight >= this.max) return false;
    this.#inFlight++;
    return true;
  }

  leave(): void {
    this.#inFlight--;
  }
}

/** What a zone's queries are sent with. */
export interface ZoneForwarding {
  readonly transport: ZoneTransport;
  readonly concurrent: ConcurrentQueries;
}

/** UDP first, no bound on queries in flight: a zone without options. Each forwarder has its own. */
export function unboundedZone(): ZoneForwarding {
  return { transport: DEFAULT_ZONE_TRANSPORT, concurrent: new ConcurrentQueries(0) };
}

/** A REFUSED response to `question` (name, type, class as on the wire), with ID 0 and RA: the answer past max_concurrent. */
export function refusedFor(question: Uint8Array): Buffer {
  return bareResponseFor(question, RCODE.REFUSED);
}
