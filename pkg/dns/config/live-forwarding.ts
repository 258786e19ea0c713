// The forwarding that a reload can replace while queries flow: one generation (a forwarder over
// the forward zones' upstreams, its metrics and its loop detector) serves at a time. A reload
// builds the next generation, which takes every query from then on; the old one is closed only
// when its last query in flight has settled, so none is dropped by the swap.
import type { Logger } from "pino";
import type { Forward } from "../cname-chase.ts";
import type { ForwardCache } from "../forward-cache.ts";
import { ForwardMetrics } from "../forward-metrics.ts";
import { createForwarder, type Forwarder, upstreamLabel } from "../forwarder.ts";
import { forwardingLoopGuard, type LoopDetector } from "../loop-detect.ts";
import type { QueryHandler } from "../query-handler.ts";
import type { ResolvedForwardZone } from "./effective-config.ts";
import { forwardRoutes } from "./forward-routes.ts";
import { UpstreamHealth } from "./upstream-health.ts";

interface Generation {
  readonly forwarder: Forwarder;
  readonly metrics: ForwardMetrics;
  readonly loops: LoopDetector;
  readonly health: UpstreamHealth;
  /** The query path through this generation's loop detector, once the handler is known. */
  watched: QueryHandler | null;
  pending: number;
  retired: boolean;
}

export class LiveForwarding {
  readonly #cache: ForwardCache | null;
  readonly #log: Logger;
  #generation: Generation;
  #handler: QueryHandler | null = null;
  #started = false;

  constructor(zones: readonly ResolvedForwardZone[], cache: ForwardCache | null, log: Logger) {
    this.#cache = cache;
    this.#log = log;
    this.#generation = this.#build(zones);
  }

  get cache(): ForwardCache | null {
    return this.#cache;
  }

  readonly forward: Forward = (request) => {
    const generation = this.#generation;
    const answer = generation.forwarder.forward(request);
    // A cached answer leaves nothing in flight.
    if (!(answer instanceof Promise)) return answer;
    generation.pending++;
    const settled = (): void => {
      generation.pending--;
      if (generation.retired && generation.pending === 0) void this.#close(generation);
    };
    answer.then(settled, settled);
    return answer;
  };

  /** The query path with the loop detector of whichever generation serves. */
  watch(handler: QueryHandler): QueryHandler {
    this.#handler = handler;
    this.#generation.watched = this.#generation.loops.watch(handler);
    return (message, transport, peer) => {
      const watched = this.#generation.watched ?? handler;
      return watched(message, transport, peer);
    };
  }

  /** Starts the loop probes; call once the DNS server listens, since probes come back to it. */
  start(): void {
    this.#started = true;
    this.#generation.loops.start();
  }

  /** Serves `zones` from now on: new queries go to them, queries in flight finish where they are. */
  replace(zones: readonly ResolvedForwardZone[]): void {
    const old = this.#generation;
    const next = this.#build(zones);
    next.metrics.carryFrom(old.metrics);
    if (this.#handler !== null) next.watched = next.loops.watch(this.#handler);
    this.#generation = next;
    // Answers of the old upstreams no longer stand, as a CoreDNS reload starts an empty cache.
    this.#cache?.clear();
    if (this.#started) next.loops.start();
    old.retired = true;
    old.loops.stop();
    old.health.stop();
    if (old.pending === 0) void this.#close(old);
  }

  exposition(): string {
    return this.#generation.metrics.exposition() + this.#generation.health.exposition();
  }

  async close(): Promise<void> {
    this.#generation.loops.stop();
    this.#generation.health.stop();
    await this.#generation.forwarder.close();
  }

  #build(zones: readonly ResolvedForwardZone[]): Generation {
    // The health checks need the forwarder to probe with, and the forwarder the routes that
    // consult the health checks: the probe is bound once the forwarder exists.
    let probe: (index: number, question: Buffer) => Promise<unknown> = () => Promise.reject(new Error("not started"));
    const health: { current: UpstreamHealth | null } = { current: null };
    const routes = forwardRoutes(zones, { up: (i) => health.current?.up(i) ?? true, allDown: () => health.current?.allDown() });
    const labels = routes.upstreams.map(upstreamLabel);
    const checks = new UpstreamHealth({
      labels,
      maxFails: routes.maxFails,
      intervalMs: routes.healthCheckMs,
      probe: (index, question) => probe(index, question),
      onChange: (index, healthy) =>
        this.#log[healthy ? "info" : "warn"]({ upstream: labels[index] }, healthy ? "upstream answers its health check again: back in service" : "upstream failed max_fails times in a row: taken out and health-checked"),
    });
    health.current = checks;
    const metrics = new ForwardMetrics(labels);
    const forwarder = createForwarder({
      upstreams: routes.upstreams,
      metrics,
      cache: this.#cache,
      route: routes.route,
      zoneOf: routes.zoneOf,
      expireMs: routes.expireMs,
      probeOverTcp: routes.probeOverTcp,
      onResult: (index, ok) => checks.result(index, ok),
    });
    probe = (index, question) => forwarder.askUpstream(index, question);
    const loops = forwardingLoopGuard(forwarder, metrics, labels, this.#log);
    return { forwarder, metrics, loops, health: checks, watched: null, pending: 0, retired: false };
  }

  async #close(generation: Generation): Promise<void> {
    try {
      await generation.forwarder.close();
    } catch (err) {
      this.#log.warn({ err }, "closing the forwarder of the previous configuration failed");
    }
  }
}
