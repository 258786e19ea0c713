// Query metrics under CoreDNS's names, so its dashboards and alerts work unchanged:
// coredns_dns_requests_total, coredns_dns_responses_total, coredns_dns_request_duration_seconds,
// coredns_dns_{request,response}_size_bytes and coredns_cache_{hits,misses,evictions}_total, with
// signpost_dns_*_cache_bytes for what the caches hold against their flags. A query costs
// a few typed-array increments and no allocation; the text is written only when Prometheus scrapes. prom-client's labelled inc() and observe() hash
// their labels on every call, about 2 µs a query together, which at tens of thousands of
// queries a second is a real share of a core, so these series are counted here and appended
// to the registry's exposition.
import type { AnswerCache } from "./answer-cache.ts";
import type { ForwardCache } from "./forward-cache.ts";
import type { QueryHandler, QueryResult, Transport } from "./query-handler.ts";
import { TYPE } from "./records.ts";
import { RequestZones } from "./request-zones.ts";
import type { TcpRejectReason } from "./tcp-admission.ts";
import type { TcpCloseReason, TcpConnectionEvents, TcpPauseReason } from "./tcp-connection.ts";

export interface QueryMetricsOptions {
  /** CoreDNS's server label, "dns://:53" for a server on every address; read at each scrape. */
  readonly server: () => string;
  /** "1" for IPv4, "2" for IPv6, as CoreDNS's family label. */
  readonly family: "1" | "2";
  /** The forwarding cache, whose hits and misses are reported. */
  readonly cache?: ForwardCache | null;
  /** The cache of cluster answers, whose size and evictions are reported. */
  readonly answerCache?: AnswerCache | null;
  /** Milliseconds, monotonic; performance.now by default. */
  readonly now?: () => number;
  /** The zones requests and responses are counted by (request-zones.ts), "." always among them. */
  readonly zones?: readonly string[];
}

/** The query types CoreDNS reports by name; every other type is "other". */
const TYPE_NAMES: readonly (readonly [number, string])[] = [
  [1, "A"], [2, "NS"], [5, "CNAME"], [6, "SOA"], [12, "PTR"], [15, "MX"], [16, "TXT"], [28, "AAAA"],
  [33, "SRV"], [43, "DS"], [46, "RRSIG"], [47, "NSEC"], [48, "DNSKEY"], [50, "NSEC3"], [65, "HTTPS"],
  [251, "IXFR"], [252, "AXFR"], [255, "ANY"],
];
const TYPE_LABELS = [...TYPE_NAMES.map(([, name]) => name), "other"];
const OTHER = TYPE_NAMES.length;
const TYPE_INDEX = new Map<number, number>(TYPE_NAMES.map(([code], i) => [code, i]));

/** By rcode, extended ones (past 15, carried in the OPT record) included. */
export const RCODE_NAMES: readonly string[] = [
  "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
  "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "", "", "", "", "",
  "BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
];

/** CoreDNS's buckets: 0.25 ms doubling up to 8.192 s. */
export const DURATION_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
const BUCKETS = DURATION_BUCKETS.length + 1;

/** CoreDNS's size buckets, in bytes, for requests and responses alike. */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];
const SIZE_SLOTS = SIZE_BUCKETS.length + 1;

const PROTOCOLS: readonly Transport[] = ["udp", "tcp"];

export class QueryMetrics {
  readonly #options: QueryMetricsOptions;
  readonly #now: () => number;
  /** Every series, per zone (request-zones.ts). */
  readonly #zones: RequestZones;

  constructor(options: QueryMetricsOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    const layout = { protocols: PROTOCOLS.length, types: TYPE_LABELS.length, durationBuckets: BUCKETS, sizeBuckets: SIZE_SLOTS };
    this.#zones = new RequestZones(options.zones ?? [], layout);
  }

  /** Counts by these zones from now on (a reload changed the forward zones). */
  setZones(zones: readonly string[]): void {
    this.#zones.setZones(zones);
  }

  /** Wraps a query handler so that each query is counted and timed. */
  instrument(handler: QueryHandler): QueryHandler {
    return (message, transport, peer) => {
      const started = this.#now();
      const result: QueryResult = handler(message, transport, peer);
      if (result instanceof Promise) {
        return result.then((response) => {
          this.record(message, transport, response, started);
          return response;
        });
      }
      this.record(message, transport, result, started);
      return result;
    };
  }

  /** Counts one query and its response (null: dropped), begun at `started` on the clock. */
  record(message: Uint8Array, transport: Transport, response: Uint8Array | null, started: number): void {
    const type = typeIndex(message);
    const proto = transport === "udp" ? 0 : 1;
    const zone = this.#zones.of(message);
    add(zone.requests, proto * TYPE_LABELS.length + type, 1);
    observeSize(zone.requestSizes, zone.requestSizeSums, proto, message.length);
    if (response !== null) {
      zone.response(rcodeOf(response));
      observeSize(zone.responseSizes, zone.responseSizeSums, proto, response.length);
    }
    const seconds = Math.max(0, (this.#now() - started) / 1000);
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] ?? 0)) bucket++;
    add(zone.durations, type * BUCKETS + bucket, 1);
    add(zone.durationSums, type, seconds);
  }

  /** Prometheus text exposition (format 0.0.4) of every series counted so far. */
  exposition(): string {
    const serverLabel = this.#options.server();
    const out: string[] = [];
    family(out, "coredns_dns_requests_total", "counter", "Counter of DNS requests made per zone, protocol and family.");
    const counted = this.#zones.all();
    for (const zone of counted) {
      const labels = `server="${serverLabel}",zone="${zone.label}",view=""`;
      PROTOCOLS.forEach((proto, p) => {
        TYPE_LABELS.forEach((type, t) => {
          const n = zone.requests[p * TYPE_LABELS.length + t] ?? 0;
          if (n > 0) out.push(`coredns_dns_requests_total{${labels},proto="${proto}",family="${this.#options.family}",type="${type}"} ${n}`);
        });
      });
    }
    family(out, "coredns_dns_responses_total", "counter", "Counter of response status codes.");
    for (const zone of counted) {
      for (const [rcode, n] of zone.responseCounts()) {
        out.push(`coredns_dns_responses_total{server="${serverLabel}",zone="${zone.label}",view="",rcode="${rcodeName(rcode)}",plugin=""} ${n}`);
      }
    }
    const duration = "coredns_dns_request_duration_seconds";
    family(out, duration, "histogram", "Histogram of the time (in seconds) each request took per zone.");
    for (const zone of counted) {
      TYPE_LABELS.forEach((type, t) => {
        const labels = `server="${serverLabel}",zone="${zone.label}",view="",type="${type}"`;
        const total = histogram(out, duration, labels, DURATION_BUCKETS, zone.durations, t * BUCKETS);
        if (total > 0) out.push(`${duration}_sum{${labels}} ${zone.durationSums[t] ?? 0}`, `${duration}_count{${labels}} ${total}`);
      });
    }
    const sizes = [
      ["coredns_dns_request_size_bytes", "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.", "requestSizes", "requestSizeSums"],
      ["coredns_dns_response_size_bytes", "Size of the returned response in bytes.", "responseSizes", "responseSizeSums"],
    ] as const;
    for (const [name, help, counts, sums] of sizes) {
      family(out, name, "histogram", help);
      for (const zone of counted) {
        PROTOCOLS.forEach((proto, p) => {
          const labels = `server="${serverLabel}",zone="${zone.label}",view="",proto="${proto}"`;
          const total = histogram(out, name, labels, SIZE_BUCKETS, zone[counts], p * SIZE_SLOTS);
          if (total > 0) out.push(`${name}_sum{${labels}} ${zone[sums][p] ?? 0}`, `${name}_count{${labels}} ${total}`);
        });
      }
    }
    const cache = this.#options.cache;
    if (cache !== undefined && cache !== null) {
      const zones = `server="${serverLabel}",view="",zones="."`;
      family(out, "coredns_cache_hits_total", "counter", "The count of cache hits.");
      out.push(`coredns_cache_hits_total{${zones},type="success"} ${cache.hits - cache.denialHits}`);
      out.push(`coredns_cache_hits_total{${zones},type="denial"} ${cache.denialHits}`);
      family(out, "coredns_cache_misses_total", "counter", "The count of cache misses. Deprecated, derive misses from cache hits/requests counters.");
      out.push(`coredns_cache_misses_total{${zones}} ${cache.misses}`);
      family(out, "coredns_cache_entries", "gauge", "The number of elements in the cache.");
      out.push(`coredns_cache_entries{${zones},type="all"} ${cache.size}`);
      family(out, "coredns_cache_evictions_total", "counter", "The count of cache evictions.");
      for (const type of ["success", "denial"] as const) out.push(`coredns_cache_evictions_total{${zones},type="${type}"} ${cache.evictions(type)}`);
      family(out, "coredns_cache_prefetch_total", "counter", "The number of times the cache has prefetched a cached item.");
      out.push(`coredns_cache_prefetch_total{${zones}} ${cache.prefetches}`);
      family(out, "coredns_cache_served_stale_total", "counter", "The number of requests served from stale cache entries.");
      out.push(`coredns_cache_served_stale_total{${zones}} ${cache.servedStale}`);
      family(out, "signpost_dns_forward_cache_bytes", "gauge", "Bytes held by the cache of upstream answers (bounded by --forward-cache-bytes).");
      out.push(`signpost_dns_forward_cache_bytes ${cache.bytes}`);
    }
    const answers = this.#options.answerCache;
    if (answers !== undefined && answers !== null) {
      family(out, "signpost_dns_answer_cache_entries", "gauge", "Cluster answers held by the answer cache.");
      out.push(`signpost_dns_answer_cache_entries ${answers.size}`);
      family(out, "signpost_dns_answer_cache_bytes", "gauge", "Bytes held by the answer cache (bounded by --answer-cache-bytes).");
      out.push(`signpost_dns_answer_cache_bytes ${answers.bytes}`);
      family(out, "signpost_dns_answer_cache_evictions_total", "counter", "Cluster answers dropped from the answer cache to make room.");
      out.push(`signpost_dns_answer_cache_evictions_total ${answers.evictions}`);
    }
    return out.join("\n") + "\n";
  }
}

const REJECT_REASONS: readonly TcpRejectReason[] = ["max_connections", "max_connections_per_ip"];
const CLOSE_REASONS: readonly TcpCloseReason[] = ["read_timeout", "idle_timeout"];
const PAUSE_REASONS: readonly TcpPauseReason[] = ["write_buffer", "in_flight"];

/**
 * What the TCP limits did, beside CoreDNS's names (CoreDNS has no such limits):
 * coredns_dns_tcp_connections (open now), coredns_dns_tcp_connections_rejected_total{reason}
 * (closed at accept by a cap), coredns_dns_tcp_connections_closed_total{reason} (closed by a
 * timeout) and coredns_dns_tcp_read_pauses_total{reason} (reading stopped for a slow reader or
 * a busy upstream). Every reason is written, zeros too, so an alert can be set up in advance.
 */
export class TcpMetrics implements TcpConnectionEvents {
  readonly #server: () => string;
  /** By the reason's index in its list. */
  readonly #rejected = new Float64Array(REJECT_REASONS.length);
  readonly #closed = new Float64Array(CLOSE_REASONS.length);
  readonly #paused = new Float64Array(PAUSE_REASONS.length);

  /** `server`: CoreDNS's server label, as for QueryMetrics; read at each scrape. */
  constructor(server: () => string) {
    this.#server = server;
  }

  rejected(reason: TcpRejectReason): void {
    add(this.#rejected, REJECT_REASONS.indexOf(reason), 1);
  }

  timedOut(reason: TcpCloseReason): void {
    add(this.#closed, CLOSE_REASONS.indexOf(reason), 1);
  }

  paused(reason: TcpPauseReason): void {
    add(this.#paused, PAUSE_REASONS.indexOf(reason), 1);
  }

  /** The exposition, with `open` TCP connections open now. */
  exposition(open: number): string {
    const server = `server="${this.#server()}"`;
    const out: string[] = [];
    family(out, "coredns_dns_tcp_connections", "gauge", "TCP connections open.");
    out.push(`coredns_dns_tcp_connections{${server}} ${open}`);
    const counters = [
      ["coredns_dns_tcp_connections_rejected_total", "TCP connections closed as soon as accepted, because a connection cap was reached.", REJECT_REASONS, this.#rejected],
      ["coredns_dns_tcp_connections_closed_total", "TCP connections closed by the server: a query not whole within the read timeout, or no traffic within the idle timeout.", CLOSE_REASONS, this.#closed],
      ["coredns_dns_tcp_read_pauses_total", "Times reading a TCP connection stopped: its client left too many answers unread, or too many of its queries waited on the upstream.", PAUSE_REASONS, this.#paused],
    ] as const;
    for (const [name, help, reasons, counts] of counters) {
      family(out, name, "counter", help);
      reasons.forEach((reason, i) => out.push(`${name}{${server},reason="${reason}"} ${counts[i] ?? 0}`));
    }
    return out.join("\n") + "\n";
  }
}

function add(counts: Float64Array, at: number, by: number): void {
  counts[at] = (counts[at] ?? 0) + by;
}

/** CoreDNS's name for an rcode; RCODE<n> for those without one. */
export function rcodeName(rcode: number): string {
  const name = RCODE_NAMES[rcode] ?? "";
  return name === "" ? `RCODE${rcode}` : name;
}

function observeSize(counts: Float64Array, sums: Float64Array, proto: number, size: number): void {
  let bucket = 0;
  while (bucket < SIZE_BUCKETS.length && size > (SIZE_BUCKETS[bucket] ?? 0)) bucket++;
  add(counts, proto * SIZE_SLOTS + bucket, 1);
  add(sums, proto, size);
}

/**
 * Appends the cumulative _bucket lines of one histogram series whose per-bucket counts start at
 * `from` (the last slot is +Inf), unless it has seen nothing; returns its count.
 */
export function histogram(out: string[], name: string, labels: string, bounds: readonly number[], counts: Float64Array, from: number): number {
  let cumulative = 0;
  const lines: string[] = [];
  for (let b = 0; b <= bounds.length; b++) {
    cumulative += counts[from + b] ?? 0;
    const le = b < bounds.length ? String(bounds[b]) : "+Inf";
    lines.push(`${name}_bucket{${labels},le="${le}"} ${cumulative}`);
  }
  if (cumulative > 0) out.push(...lines);
  return cumulative;
}

/**
 * A response's rcode with the extended bits of its OPT record, which signpost-dns always
 * writes last (so BADVERS, header rcode 0 and OPT extended-rcode 1, counts as BADVERS).
 */
export function rcodeOf(response: Uint8Array): number {
  const low = (response[3] ?? 0) & 0x0f;
  const n = response.length;
  const arcount = ((response[10] ?? 0) << 8) | (response[11] ?? 0);
  if (arcount === 0 || n < 23) return low;
  const opt = n - 11;
  if (response[opt] !== 0 || response[opt + 1] !== 0 || response[opt + 2] !== TYPE.OPT) return low;
  return ((response[opt + 5] ?? 0) << 4) | low;
}

export function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/** The question's type as an index into TYPE_LABELS, without decoding the name. */
function typeIndex(message: Uint8Array): number {
  let at = 12;
  for (let length = message[at]; length !== undefined && length !== 0; length = message[at]) {
    if (length > 63) return OTHER;
    at += length + 1;
  }
  const high = message[at + 1];
  const low = message[at + 2];
  if (high === undefined || low === undefined) return OTHER;
  return TYPE_INDEX.get((high << 8) | low) ?? OTHER;
}
