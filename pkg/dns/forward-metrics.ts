// The forwarder's metrics under CoreDNS's forward plugin names: coredns_forward_requests_total
// {to}, coredns_forward_responses_total{to,rcode} and coredns_forward_request_duration_seconds
// {to,rcode}, where `to` is the upstream's address:port; and signpost's own: datagrams dropped
// because they were not the answer they came for, and upstreams found to loop back to us; and
// coredns_forward_max_concurrent_rejects_total, queries refused past a zone's max_concurrent.
// Counted in typed arrays by upstream index, so a forwarded query costs no allocation; written
// out only when Prometheus scrapes.
import { DURATION_BUCKETS, family, histogram, rcodeName } from "./metrics.ts";

/** Rcodes an upstream's header can carry; extended ones are not read on this path. */
const RCODES = 16;
const SLOTS = DURATION_BUCKETS.length + 1;

export class ForwardMetrics {
  readonly #to: readonly string[];
  readonly #requests: Float64Array;
  /** By upstream then rcode. */
  readonly #responses: Float64Array;
  /** By upstream, rcode, then bucket (the last is +Inf). */
  readonly #durations: Float64Array;
  readonly #sums: Float64Array;
  readonly #mismatches: Float64Array;
  readonly #loops: Uint8Array;
  #maxConcurrentRejects = 0;

  /** `to`: the upstreams' labels, "10.0.0.10:53" or "[fd00::10]:53", in the forwarder's order. */
  constructor(to: readonly string[]) {
    this.#to = to;
    this.#requests = new Float64Array(to.length);
    this.#responses = new Float64Array(to.length * RCODES);
    this.#durations = new Float64Array(to.length * RCODES * SLOTS);
    this.#sums = new Float64Array(to.length * RCODES);
    this.#mismatches = new Float64Array(to.length);
    this.#loops = new Uint8Array(to.length);
  }

  /**
   * Takes over `previous`'s counts for each upstream both name (a reload of the forward zones),
   * so counters go on rather than reset; loops are not taken over: the new probes decide.
   */
  carryFrom(previous: ForwardMetrics): void {
    this.#maxConcurrentRejects = previous.#maxConcurrentRejects;
    this.#to.forEach((to, u) => {
      const p = previous.#to.indexOf(to);
      if (p < 0) return;
      this.#requests[u] = previous.#requests[p] ?? 0;
      this.#mismatches[u] = previous.#mismatches[p] ?? 0;
      this.#responses.set(previous.#responses.subarray(p * RCODES, (p + 1) * RCODES), u * RCODES);
      this.#sums.set(previous.#sums.subarray(p * RCODES, (p + 1) * RCODES), u * RCODES);
      this.#durations.set(previous.#durations.subarray(p * RCODES * SLOTS, (p + 1) * RCODES * SLOTS), u * RCODES * SLOTS);
    });
  }

  /** A datagram from upstream number `upstream` on a query's socket that did not answer it: dropped. */
  mismatch(upstream: number): void {
    this.#mismatches[upstream] = (this.#mismatches[upstream] ?? 0) + 1;
  }

  /** Upstream number `upstream` sends our queries back to us: nothing is forwarded to it any more. */
  loop(upstream: number): void {
    this.#loops[upstream] = 1;
  }

  /** A query refused because its zone had max_concurrent queries in flight. */
  maxConcurrentReject(): void {
    this.#maxConcurrentRejects++;
  }

  /** A query sent to upstream number `upstream`. */
  request(upstream: number): void {
    this.#requests[upstream] = (this.#requests[upstream] ?? 0) + 1;
  }

  /** Its response, with the rcode of its header, `seconds` after it was sent. */
  response(upstream: number, rcode: number, seconds: number): void {
    const series = upstream * RCODES + (rcode & 0x0f);
    this.#responses[series] = (this.#responses[series] ?? 0) + 1;
    this.#sums[series] = (this.#sums[series] ?? 0) + seconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] ?? 0)) bucket++;
    const at = series * SLOTS + bucket;
    this.#durations[at] = (this.#durations[at] ?? 0) + 1;
  }

  exposition(): string {
    const out: string[] = [];
    family(out, "coredns_forward_requests_total", "counter", "Counter of requests made per upstream.");
    this.#to.forEach((to, u) => out.push(`coredns_forward_requests_total{to="${to}"} ${this.#requests[u] ?? 0}`));
    family(out, "coredns_forward_responses_total", "counter", "Counter of responses received per upstream.");
    this.#eachSeries((to, rcode, series) => {
      const n = this.#responses[series] ?? 0;
      if (n > 0) out.push(`coredns_forward_responses_total{to="${to}",rcode="${rcodeName(rcode)}"} ${n}`);
    });
    const duration = "coredns_forward_request_duration_seconds";
    family(out, duration, "histogram", "Histogram of the time each request took.");
    this.#eachSeries((to, rcode, series) => {
      const labels = `to="${to}",rcode="${rcodeName(rcode)}"`;
      const count = histogram(out, duration, labels, DURATION_BUCKETS, this.#durations, series * SLOTS);
      if (count > 0) out.push(`${duration}_sum{${labels}} ${this.#sums[series] ?? 0}`, `${duration}_count{${labels}} ${count}`);
    });
    const dropped = "signpost_dns_forward_dropped_responses_total";
    family(out, dropped, "counter", "Datagrams from an upstream's address and port that did not answer the query they arrived for (wrong ID or question), dropped.");
    this.#to.forEach((to, u) => out.push(`${dropped}{to="${to}",reason="mismatch"} ${this.#mismatches[u] ?? 0}`));
    family(out, "signpost_dns_forward_loop_detected", "gauge", "1 when the upstream sent signpost-dns's loop probe back to it; nothing is forwarded there any more.");
    this.#to.forEach((to, u) => out.push(`signpost_dns_forward_loop_detected{to="${to}"} ${this.#loops[u] ?? 0}`));
    const rejects = "coredns_forward_max_concurrent_rejects_total";
    family(out, rejects, "counter", "Counter of the number of queries rejected because the concurrent queries were at maximum.");
    out.push(`${rejects} ${this.#maxConcurrentRejects}`);
    return out.join("\n") + "\n";
  }

  #eachSeries(visit: (to: string, rcode: number, series: number) => void): void {
    this.#to.forEach((to, u) => {
      for (let rcode = 0; rcode < RCODES; rcode++) visit(to, rcode, u * RCODES + rcode);
    });
  }
}
