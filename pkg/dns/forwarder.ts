// Sends names outside the cluster zone to the upstream servers: over UDP first, each query on
// a socket of its own (upstream-udp.ts), again over TCP when the answer comes back truncated,
// the next upstream when one times out or refuses; a zone may ask over TCP always or over the
// client's transport, and bound its queries in flight (forward-transport.ts). TCP connections
// are pooled per upstream (upstream-pool.ts). Answers are cached (forward-cache.ts), popular
// ones refreshed before they expire and expired ones served stale when so configured
// (cache-refresh.ts), and identical questions in flight share one upstream query. An upstream
// found to send our queries back to us (loop-detect.ts) is skipped from then on.
import { isIPv6 } from "node:net";
import type { Forward } from "./cname-chase.ts";
import { BackgroundRefresh } from "./cache-refresh.ts";
import { ConcurrencyLimit } from "./concurrency-limit.ts";
import { ForwardCache, forwardCacheKey } from "./forward-cache.ts";
import type { ForwardMetrics } from "./forward-metrics.ts";
import { firstOverTcp, refusedFor, unboundedZone, type ZoneForwarding } from "./forward-transport.ts";
import type { ForwardRequest } from "./query-handler.ts";
import { RCODE } from "./records.ts";
import { DEFAULT_EXPIRE_MS, UpstreamPool } from "./upstream-pool.ts";
import { QuerySockets, udpExchange } from "./upstream-udp.ts";
import { type DnssecBits, NO_DNSSEC_BITS } from "./upstream-query.ts";
import { SERVER_UDP_SIZE } from "./wire.ts";

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** Per upstream and attempt; 2 s by default. */
  readonly timeoutMs?: number;
  /** null turns caching off; a 30 s / 5 s cache by default. */
  readonly cache?: ForwardCache | null;
  /** The UDP payload size advertised upstream; 1232 by default (DNS flag day 2020). */
  readonly udpSize?: number;
  /** Counts each exchange with an upstream; see upstreamLabel for its `to` labels. */
  readonly metrics?: ForwardMetrics;
  /**
   * UDP queries in flight at once, each holding a socket (a file descriptor) until answered or
   * timed out; past it a query fails at once. 4096 by default, Unbound's outgoing-range.
   */
  readonly maxInFlight?: number;
  /**
   * Exchanges over TCP (answers too big for UDP, up to 64 KiB each) at once; 32 by default, the
   * rest wait, 1024 at most. This bounds what a flood of large answers holds in memory.
   */
  readonly maxTcpInFlight?: number;
  /**
   * Per-domain upstreams (stub domains): the indexes into `upstreams` that a name (lower-case,
   * no trailing dot) is asked of, in order. Every upstream, in order, when not given.
   */
  readonly route?: (name: string) => readonly number[];
  /** Each forwarded exchange's outcome with upstream number `index`, for health checks. */
  readonly onResult?: (index: number, ok: boolean) => void;
  /** How a name's zone sends its queries and bounds them; over UDP first, unbounded, when not given. */
  readonly zoneOf?: (name: string) => ZoneForwarding;
  /** Per upstream: how long an idle pooled TCP connection is kept; 10 s (CoreDNS's expire) when not given. */
  readonly expireMs?: readonly number[];
  /** Per upstream: whether probes (health, loop) go over TCP, as its zones force TCP. */
  readonly probeOverTcp?: readonly boolean[];
  /** Cache refreshes (prefetch, stale) in flight at most; 64 by default. */
  readonly maxRefreshes?: number;
}

/** An upstream as the `to` label of the forward metrics: "10.0.0.10:53", "[fd00::10]:53". */
export function upstreamLabel(upstream: Upstream): string {
  return isIPv6(upstream.address) ? `[${upstream.address}]:${upstream.port}` : `${upstream.address}:${upstream.port}`;
}

export interface Forwarder {
  readonly forward: Forward;
  readonly cache: ForwardCache | null;
  /** One UDP exchange with upstream number `index` alone, past the cache: the loop probe. */
  askUpstream(index: number, question: Buffer): Promise<Buffer>;
  /** Forwards nothing more to upstream number `index`; with none left, forwarding fails. */
  stopForwardingTo(index: number): void;
  close(): Promise<void>;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  if (options.upstreams.length === 0) throw new Error("a forwarder needs at least one upstream");
  const timeoutMs = options.timeoutMs ?? 2000;
  const udpSize = options.udpSize ?? SERVER_UDP_SIZE;
  const cache = options.cache === undefined ? new ForwardCache() : options.cache;
  const inFlight = new Map<string, Promise<Buffer>>();
  const sockets = new QuerySockets(options.maxInFlight ?? 4096);
  const maxTcp = options.maxTcpInFlight ?? 32;
  const tcpSlots = new ConcurrencyLimit(maxTcp, 1024);
  const pools = options.upstreams.map((u, i) => new UpstreamPool(u, { expireMs: options.expireMs?.[i] ?? DEFAULT_EXPIRE_MS, maxConnections: maxTcp, maxWaiting: 1024 }));
  const refreshes = new BackgroundRefresh(options.maxRefreshes ?? 64);
  const unbounded = unboundedZone();
  const stopped = new Set<number>();

  const overUdp = (index: number, upstream: Upstream, question: Buffer, bits: DnssecBits): Promise<Buffer> =>
    udpExchange(sockets, upstream, question, bits, { timeoutMs, udpSize, onMismatch: () => options.metrics?.mismatch(index) });

  /** One exchange with upstream number `index`, counted and timed. */
  const exchange = async (index: number, send: () => Promise<Buffer>): Promise<Buffer> => {
    const metrics = options.metrics;
    if (metrics === undefined) return send();
    metrics.request(index);
    const started = performance.now();
    const response = await send();
    metrics.response(index, (response[3] ?? 0) & 0x0f, (performance.now() - started) / 1000);
    return response;
  };

  const everyUpstream = options.upstreams.map((_, index) => index);
  const route = options.route ?? (() => everyUpstream);

  const overTcp = (index: number, question: Buffer, bits: DnssecBits): Promise<Buffer> => {
    const pool = pools[index];
    if (pool === undefined) return Promise.reject(new Error(`no upstream number ${index}`));
    return tcpSlots.run(() => exchange(index, () => pool.exchange(question, bits, udpSize, timeoutMs)));
  };

  const ask = async (question: Buffer, bits: DnssecBits, candidates: readonly number[], tcpFirst: boolean): Promise<Buffer> => {
    // Made only when it is thrown: an Error captures the stack, a few microseconds per query.
    let lastError: Error | null = null;
    for (const index of candidates) {
      const upstream = options.upstreams[index];
      if (upstream === undefined || stopped.has(index)) continue;
      try {
        const response = tcpFirst ? null : await exchange(index, () => overUdp(index, upstream, question, bits));
        const truncated = response === null || ((response[2] ?? 0) & 0x02) !== 0;
        const answer = truncated ? await overTcp(index, question, bits) : response;
        options.onResult?.(index, true);
        return answer;
      } catch (error) {
        options.onResult?.(index, false);
        lastError = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (lastError === null) throw new Error("every upstream sends our queries back to us (a forwarding loop)");
    throw lastError;
  };

  /** The upstreams' answer to `request`, cached; one query in flight per key, within the zone's bound. */
  const fetch = (request: ForwardRequest, key: string): Promise<Buffer> => {
    const shared = inFlight.get(key);
    if (shared !== undefined) return shared;
    const zone = options.zoneOf?.(request.name) ?? unbounded;
    if (!zone.concurrent.enter()) {
      // CoreDNS's max_concurrent: REFUSED, not cached, not an upstream's failure.
      options.metrics?.maxConcurrentReject();
      return Promise.resolve(refusedFor(request.question));
    }
    const tcpFirst = firstOverTcp(zone.transport, request.transport ?? "udp");
    const asked = ask(Buffer.from(request.question), { dnssecOk: request.dnssecOk, checkingDisabled: request.cd }, route(request.name), tcpFirst).then(
      (response) => {
        cache?.set(key, response);
        return response;
      },
      (error: unknown) => {
        // Every upstream failed: the next asker gets SERVFAIL from the cache for a while (unless
        // the cache holds an answer it may still serve).
        cache?.setFailure(key, request.question);
        throw error;
      },
    );
    const settled = asked.finally(() => {
      zone.concurrent.leave();
      inFlight.delete(key);
    });
    settled.catch(() => {});
    inFlight.set(key, asked);
    return asked;
  };

  const refresh = (request: ForwardRequest, key: string): boolean => refreshes.start(() => fetch(request, key));

  const forward: Forward = (request: ForwardRequest) => {
    const key = forwardCacheKey(request);
    const hit = cache?.lookup(key) ?? null;
    if (hit !== null) {
      if (hit.state === "prefetch" && refresh(request, key)) cache?.notePrefetch();
      else if (hit.state === "stale") refresh(request, key);
      return hit.response;
    }
    // RFC 8767 (serve_stale verify): when the upstreams cannot refresh an expired entry (they
    // fail, or answer neither NOERROR nor NXDOMAIN), the expired answer stands in.
    return fetch(request, key).then(
      (response) => {
        const rcode = (response[3] ?? 0) & 0x0f;
        return rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN ? response : (cache?.stale(key) ?? response);
      },
      (error: unknown) => {
        const stale = cache?.stale(key) ?? null;
        if (stale === null) throw error;
        return stale;
      },
    );
  };

  return {
    forward,
    cache,
    askUpstream: (index, question) => {
      const upstream = options.upstreams[index];
      if (upstream === undefined) return Promise.reject(new Error(`no upstream number ${index}`));
      if (options.probeOverTcp?.[index] === true) return overTcp(index, question, NO_DNSSEC_BITS);
      return exchange(index, () => overUdp(index, upstream, question, NO_DNSSEC_BITS));
    },
    stopForwardingTo: (index) => void stopped.add(index),
    close: () => {
      sockets.closeAll();
      for (const pool of pools) pool.close();
      return Promise.resolve();
    },
  };
}
