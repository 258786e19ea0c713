// Sends names outside the cluster zone to the upstream servers: over UDP first, again over TCP
// when the answer comes back truncated, the next upstream when one times out. Answers are
// cached (forward-cache.ts) and identical questions in flight share one upstream query. A
// response is taken only from the upstream asked, with the ID and question it was asked.
import { randomInt } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, isIPv6 } from "node:net";
import type { Forward } from "./cname-chase.ts";
import { ForwardCache, forwardCacheKey } from "./forward-cache.ts";
import type { ForwardMetrics } from "./forward-metrics.ts";
import type { ForwardRequest } from "./query-handler.ts";

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
}

/** An upstream as the `to` label of the forward metrics: "10.0.0.10:53", "[fd00::10]:53". */
export function upstreamLabel(upstream: Upstream): string {
  return isIPv6(upstream.address) ? `[${upstream.address}]:${upstream.port}` : `${upstream.address}:${upstream.port}`;
}

export interface Forwarder {
  readonly forward: Forward;
  readonly cache: ForwardCache | null;
  close(): Promise<void>;
}

interface Pending {
  readonly upstream: Upstream;
  readonly question: Buffer;
  readonly resolve: (response: Buffer) => void;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  if (options.upstreams.length === 0) throw new Error("a forwarder needs at least one upstream");
  const timeoutMs = options.timeoutMs ?? 2000;
  const udpSize = options.udpSize ?? 1232;
  const cache = options.cache === undefined ? new ForwardCache() : options.cache;
  const pending = new Map<number, Pending>();
  const inFlight = new Map<string, Promise<Buffer>>();
  const sockets = new Map<"udp4" | "udp6", UdpSocket>();

  const socketFor = (upstream: Upstream): UdpSocket => {
    const type = isIPv6(upstream.address) ? "udp6" : "udp4";
    let socket = sockets.get(type);
    if (socket === undefined) {
      socket = createSocket(type);
      socket.on("message", (message, rinfo) => {
        if (message.length < 12) return;
        const entry = pending.get(message.readUInt16BE(0));
        if (entry === undefined || rinfo.port !== entry.upstream.port || rinfo.address !== entry.upstream.address) return;
        if ((message[2] ?? 0) < 0x80 || !questionMatches(message, entry.question)) return;
        entry.resolve(message);
      });
      socket.on("error", () => {});
      socket.unref();
      sockets.set(type, socket);
    }
    return socket;
  };

  const freeId = (): number => {
    for (;;) {
      const id = randomInt(0x10000);
      if (!pending.has(id)) return id;
    }
  };

  const overUdp = (upstream: Upstream, question: Buffer): Promise<Buffer> => {
    if (pending.size >= 0xffff) return Promise.reject(new Error("too many queries in flight"));
    const id = freeId();
    const message = buildQuery(id, question, udpSize);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`upstream ${upstream.address}:${upstream.port} timed out`));
      }, timeoutMs);
      pending.set(id, {
        upstream,
        question,
        resolve: (response) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(response);
        },
      });
      const failed = (err: Error) => {
        clearTimeout(timer);
        pending.delete(id);
        reject(err);
      };
      try {
        socketFor(upstream).send(message, upstream.port, upstream.address, (err) => err && failed(err));
      } catch (err) {
        failed(err instanceof Error ? err : new Error(String(err)));
      }
    });
  };

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

  const ask = async (question: Buffer): Promise<Buffer> => {
    let lastError: unknown = new Error("no upstream answered");
    for (const [index, upstream] of options.upstreams.entries()) {
      try {
        const response = await exchange(index, () => overUdp(upstream, question));
        const truncated = ((response[2] ?? 0) & 0x02) !== 0;
        return truncated ? await exchange(index, () => overTcp(upstream, question, udpSize, timeoutMs)) : response;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };

  const forward: Forward = (request: ForwardRequest) => {
    const key = forwardCacheKey(request);
    const cached = cache?.get(key);
    if (cached) return Promise.resolve(cached);
    let shared = inFlight.get(key);
    if (shared === undefined) {
      shared = ask(Buffer.from(request.question)).then(
        (response) => {
          cache?.set(key, response);
          return response;
        },
        (error: unknown) => {
          // Every upstream failed: the next asker gets SERVFAIL from the cache for a while.
          cache?.setFailure(key, request.question);
          throw error;
        },
      );
      const settled = shared.finally(() => inFlight.delete(key));
      settled.catch(() => {});
      inFlight.set(key, shared);
    }
    return shared;
  };

  return {
    forward,
    cache,
    close: async () => {
      await Promise.all([...sockets.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      sockets.clear();
    },
  };
}

/** A query with recursion desired and an OPT record, for the question as the client asked it. */
function buildQuery(id: number, question: Buffer, udpSize: number): Buffer {
  const out = Buffer.alloc(12 + question.length + 11);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  question.copy(out, 12);
  const opt = 12 + question.length;
  out.writeUInt16BE(41, opt + 1);
  out.writeUInt16BE(udpSize, opt + 3);
  return out;
}

function questionMatches(response: Buffer, question: Buffer): boolean {
  if (response.readUInt16BE(4) !== 1 || response.length < 12 + question.length) return false;
  for (let i = 0; i < question.length; i++) {
    const a = response[12 + i] ?? 0;
    const b = question[i] ?? 0;
    if (a !== b && !((a | 0x20) === (b | 0x20) && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7a)) return false;
  }
  return true;
}

/** One query over a fresh TCP connection, for answers too big for UDP. */
function overTcp(upstream: Upstream, question: Buffer, udpSize: number, timeoutMs: number): Promise<Buffer> {
  const id = randomInt(0x10000);
  const message = buildQuery(id, question, udpSize);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: upstream.address, port: upstream.port });
    let buffered = Buffer.alloc(0);
    const done = (error: Error | null, response?: Buffer) => {
      socket.destroy();
      if (response !== undefined) resolve(response);
      else reject(error ?? new Error("connection closed"));
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`upstream ${upstream.address}:${upstream.port} timed out over TCP`)));
    socket.on("error", (err) => done(err));
    socket.on("close", () => done(null));
    socket.on("connect", () => {
      const frame = Buffer.alloc(2 + message.length);
      frame.writeUInt16BE(message.length, 0);
      message.copy(frame, 2);
      socket.write(frame);
    });
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const response = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      if (response.length < 12 || response.readUInt16BE(0) !== id || !questionMatches(response, question)) {
        done(new Error("upstream answered another question over TCP"));
        return;
      }
      done(null, Buffer.from(response));
    });
  });
}
