// CoreDNS forward's health checking: an upstream whose queries fail `maxFails` times in a row is
// taken out (queries skip it while another is up), and probed every `intervalMs` with ". IN NS"
// until it answers anything, when it is put back. One timer per upstream that is down, no more.
// Metrics under CoreDNS's names (coredns_forward_healthcheck_failures_total, ..._broken_total)
// and signpost_dns_forward_upstream_healthy{to}.
import { family } from "../metrics.ts";

/** ". IN NS" as on the wire: the root name, type NS, class IN; CoreDNS's health check question. */
const ROOT_NS = Buffer.from([0, 0, 2, 0, 1]);

export interface UpstreamHealthOptions {
  /** The upstreams' labels, by index. */
  readonly labels: readonly string[];
  /** Per upstream: consecutive failures that take it out; 0 never does. */
  readonly maxFails: readonly number[];
  /** Per upstream: between probes while it is out. */
  readonly intervalMs: readonly number[];
  /** One exchange with upstream number `index` alone; settles when it answers or fails. */
  readonly probe: (index: number, question: Buffer) => Promise<unknown>;
  readonly onChange?: (index: number, healthy: boolean) => void;
}

export class UpstreamHealth {
  readonly #options: UpstreamHealthOptions;
  readonly #fails: Uint32Array;
  readonly #down: Uint8Array;
  readonly #probeFailures: Float64Array;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #broken = 0;
  #stopped = false;

  constructor(options: UpstreamHealthOptions) {
    this.#options = options;
    const n = options.labels.length;
    this.#fails = new Uint32Array(n);
    this.#down = new Uint8Array(n);
    this.#probeFailures = new Float64Array(n);
  }

  up(index: number): boolean {
    return this.#down[index] !== 1;
  }

  /** The outcome of a forwarded query's exchange with upstream number `index`. */
  result(index: number, ok: boolean): void {
    if (ok) {
      this.#fails[index] = 0;
      return;
    }
    const max = this.#options.maxFails[index] ?? 0;
    const fails = (this.#fails[index] ?? 0) + 1;
    this.#fails[index] = fails;
    if (max > 0 && fails >= max && this.up(index)) this.#takeOut(index);
  }

  /** Every one of `candidates` is out: counted as CoreDNS counts it; they are all tried anyway. */
  allDown(): void {
    this.#broken++;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  exposition(): string {
    const out: string[] = [];
    const labels = this.#options.labels;
    family(out, "coredns_forward_healthcheck_failures_total", "counter", "Number of failed health checks per upstream.");
    labels.forEach((to, i) => out.push(`coredns_forward_healthcheck_failures_total{to="${to}"} ${this.#probeFailures[i] ?? 0}`));
    family(out, "coredns_forward_healthcheck_broken_total", "counter", "Counter of the number of complete failures of the healthchecks.");
    out.push(`coredns_forward_healthcheck_broken_total ${this.#broken}`);
    family(out, "signpost_dns_forward_upstream_healthy", "gauge", "1 while the upstream is in service, 0 while it is taken out after max_fails failures and probed.");
    labels.forEach((to, i) => out.push(`signpost_dns_forward_upstream_healthy{to="${to}"} ${this.up(i) ? 1 : 0}`));
    return out.join("\n") + "\n";
  }

  #takeOut(index: number): void {
    this.#down[index] = 1;
    this.#options.onChange?.(index, false);
    this.#schedule(index);
  }

  #schedule(index: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => void this.#probe(index), this.#options.intervalMs[index] ?? 500);
    timer.unref();
    this.#timers.set(index, timer);
  }

  async #probe(index: number): Promise<void> {
    this.#timers.delete(index);
    try {
      await this.#options.probe(index, ROOT_NS);
    } catch {
      this.#probeFailures[index] = (this.#probeFailures[index] ?? 0) + 1;
      this.#schedule(index);
      return;
    }
    if (this.#stopped) return;
    this.#down[index] = 0;
    this.#fails[index] = 0;
    this.#options.onChange?.(index, true);
  }
}
