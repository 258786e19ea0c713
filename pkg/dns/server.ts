// The sockets of signpost-dns: UDP and TCP on one address and port. TCP connections may carry
// many length-prefixed queries back to back (RFC 7766 pipelining); each answer is written as
// soon as it is ready, in whatever order they complete. A client that stops mid-frame only
// holds its own connection, until the idle timeout closes it.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { createServer as createTcpServer, type Server, type Socket as TcpSocket } from "node:net";
import type { AnswerCache } from "./answer-cache.ts";
import type { Forward } from "./cname-chase.ts";
import { createQueryHandler, type QueryHandler, type QueryResult } from "./query-handler.ts";
import type { RecordStore } from "./record-store.ts";
import { frameReader } from "./tcp-frames.ts";

export interface DnsServerOptions {
  readonly store: RecordStore;
  /** 0 picks a free port, the same one for UDP and TCP. */
  readonly port: number;
  readonly address: string;
  /** Answers names outside the cluster zone; without it they are REFUSED. */
  readonly forward?: Forward;
  /** Pass unknown reverse names upstream (default true), as kubeadm's Corefile does. */
  readonly reverseFallthrough?: boolean;
  /** Encoded cluster answers; a default-sized one when absent, none when null. */
  readonly answerCache?: AnswerCache | null;
  /** A TCP connection idle this long is closed; 10 s by default (RFC 7766 §6.2.3). */
  readonly tcpIdleTimeoutMs?: number;
  /**
   * Wraps the query handler, for metrics and the query log. It runs on every query, so it
   * should cost no more than a few counters.
   */
  readonly instrument?: (handler: QueryHandler) => QueryHandler;
  /** Socket errors, which never stop the server. */
  readonly onError?: (error: Error) => void;
}

export interface DnsServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Queries one TCP connection may have waiting on the upstream before it stops reading. */
const MAX_TCP_IN_FLIGHT = 64;
const BIND_ATTEMPTS = 8;

export async function createDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const base = createQueryHandler(options);
  const handler = options.instrument === undefined ? base : options.instrument(base);
  const onError = options.onError ?? (() => {});
  const idleMs = options.tcpIdleTimeoutMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(options.address, options.port, handler, onError);
    const port = udp.address().port;
    const connections = new Set<TcpSocket>();
    try {
      const tcp = await listenTcp(options.address, port, (socket) => {
        connections.add(socket);
        socket.once("close", () => connections.delete(socket));
        serveTcpConnection(socket, handler, idleMs, onError);
      });
      tcp.on("error", onError);
      return {
        address: options.address,
        port,
        close: () => closeAll(udp, tcp, connections),
      };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      // An ephemeral UDP port may be taken for TCP by someone else: pick another.
      const inUse = error instanceof Error && "code" in error && error.code === "EADDRINUSE";
      if (options.port !== 0 || !inUse || attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

const UDP_RECEIVE_BUFFER_BYTES = 4 << 20;

function bindUdp(address: string, port: number, handler: QueryHandler, onError: (e: Error) => void): Promise<Socket> {
  // Replies go to the address a datagram came from, always an IP literal, so the resolver
  // step dgram puts before every send (a dns.lookup and a tick) is skipped; and without a send
  // callback a successful sendto completes synchronously, with failures on the socket's
  // "error" handler instead of a callback queued for the next tick.
  const socket = createSocket({
    type: isIPv6(address) ? "udp6" : "udp4",
    lookup: (host, _options, callback) => callback(null, host, isIPv6(host) ? 6 : 4),
    // The default buffer (about 200 KiB) holds some 190 queries: a burst from many clients
    // overflows it while a GC pause holds the loop. Ask for 4 MiB; the kernel caps the request
    // at net.core.rmem_max.
    recvBufferSize: UDP_RECEIVE_BUFFER_BYTES,
  });
  const reply = (response: Buffer | null, to: RemoteInfo) => {
    if (response !== null) socket.send(response, to.port, to.address);
  };
  socket.on("message", (message, rinfo) => {
    const result = safely(() => handler(message, "udp", rinfo));
    if (result instanceof Promise) result.then((r) => reply(r, rinfo), onError);
    else reply(result, rinfo);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => {
      socket.off("error", reject);
      socket.on("error", onError);
      resolve(socket);
    });
  });
}

function listenTcp(address: string, port: number, onConnection: (s: TcpSocket) => void): Promise<Server> {
  const server = createTcpServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: address, exclusive: true }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function serveTcpConnection(socket: TcpSocket, handler: QueryHandler, idleMs: number, onError: (e: Error) => void) {
  let inFlight = 0;
  let peerEnded = false;
  const peer = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  socket.setTimeout(idleMs, () => socket.destroy());
  socket.on("error", (err) => {
    // Resets and timeouts are the client's business; anything else is worth a log line.
    if (!("code" in err) || (err.code !== "ECONNRESET" && err.code !== "EPIPE")) onError(err);
  });

  const write = (response: Buffer | null) => {
    if (response === null || socket.destroyed || !socket.writable) return;
    const frame = Buffer.allocUnsafe(2 + response.length);
    frame.writeUInt16BE(response.length, 0);
    response.copy(frame, 2);
    socket.write(frame);
  };
  const settle = () => {
    inFlight--;
    if (inFlight < MAX_TCP_IN_FLIGHT && socket.isPaused()) socket.resume();
    if (peerEnded && inFlight === 0) socket.end();
  };

  socket.on(
    "data",
    frameReader((frame) => {
      const result: QueryResult = safely(() => handler(frame, "tcp", peer));
      if (result instanceof Promise) {
        inFlight++;
        if (inFlight >= MAX_TCP_IN_FLIGHT) socket.pause();
        result.then(write, onError).finally(settle);
      } else {
        write(result);
      }
    }),
  );
  socket.on("end", () => {
    peerEnded = true;
    if (inFlight === 0) socket.end();
  });
}

/** The handler never throws by design; this keeps a bug in it from taking the socket down. */
function safely(run: () => QueryResult): QueryResult {
  try {
    return run();
  } catch {
    return null;
  }
}

async function closeAll(udp: Socket, tcp: Server, connections: Set<TcpSocket>): Promise<void> {
  for (const socket of connections) socket.destroy();
  await Promise.all([
    new Promise<void>((resolve) => udp.close(() => resolve())),
    new Promise<void>((resolve) => tcp.close(() => resolve())),
  ]);
}
