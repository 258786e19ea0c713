// The sockets of signpost-dns: UDP and TCP on one address and port. TCP connections are taken
// up to a cap in all and per source address (tcp-admission.ts), and each is served by
// tcp-connection.ts, which bounds what one client can cost in memory and in time.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { createServer as createTcpServer, type Server, type Socket as TcpSocket } from "node:net";
import type { AnswerCache } from "./answer-cache.ts";
import type { Forward } from "./cname-chase.ts";
import type { Autopath } from "./autopath.ts";
import { createQueryHandler, type QueryHandler } from "./query-handler.ts";
import type { RecordStore } from "./record-store.ts";
import type { ReverseZones } from "./reverse-zones.ts";
import { TcpAdmission } from "./tcp-admission.ts";
import { DEFAULT_TCP_LIMITS, type TcpLimits } from "./tcp-limits.ts";
import { safely, serveTcpConnection, type TcpConnectionEvents } from "./tcp-connection.ts";

export interface DnsServerOptions {
  readonly store: RecordStore;
  /** 0 picks a free port, the same one for UDP and TCP. */
  readonly port: number;
  readonly address: string;
  /** Answers names outside the cluster zone; without it they are REFUSED. */
  readonly forward?: Forward;
  /** Pass unknown reverse names upstream (default true), as kubeadm's Corefile does. */
  readonly reverseFallthrough?: boolean;
  readonly reverseZones?: ReverseZones;
  /** Encoded cluster answers; a default-sized one when absent, none when null. */
  readonly answerCache?: AnswerCache | null;
  /** Server-side search-path expansion for verified Pods; off when absent. */
  readonly autopath?: Autopath;
  /** Limits on TCP connections; DEFAULT_TCP_LIMITS for those not given. */
  readonly tcp?: Partial<TcpLimits>;
  /** Rejected, timed-out and paused TCP connections, for metrics. */
  readonly tcpEvents?: TcpConnectionEvents;
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
  /** TCP connections open now. */
  readonly tcpConnections: number;
  close(): Promise<void>;
}

const BIND_ATTEMPTS = 8;
const NO_EVENTS: TcpConnectionEvents = { rejected: () => {}, timedOut: () => {}, paused: () => {} };

export async function createDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const base = createQueryHandler(options);
  const handler = options.instrument === undefined ? base : options.instrument(base);
  const onError = options.onError ?? (() => {});
  const limits = { ...DEFAULT_TCP_LIMITS, ...options.tcp };
  const events = options.tcpEvents ?? NO_EVENTS;
  const connection = { handler, idleTimeoutMs: limits.idleTimeoutMs, readTimeoutMs: limits.readTimeoutMs, events, onError };
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(options.address, options.port, handler, onError);
    const port = udp.address().port;
    const connections = new Set<TcpSocket>();
    const admission = new TcpAdmission(limits.maxConnections, limits.maxConnectionsPerIp);
    try {
      const tcp = await listenTcp(options.address, port, limits.writeBufferBytes, (socket) => {
        const source = socket.remoteAddress ?? "";
        const rejected = admission.admit(source);
        if (rejected !== null) {
          events.rejected(rejected);
          socket.destroy();
          return;
        }
        connections.add(socket);
        socket.once("close", () => {
          connections.delete(socket);
          admission.release(source);
        });
        serveTcpConnection(socket, connection);
      });
      tcp.on("error", onError);
      return {
        address: options.address,
        port,
        get tcpConnections() {
          return admission.open;
        },
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
  // The family is the socket's: a udp6 socket sees IPv4 clients as IPv4-mapped IPv6 addresses.
  const family = isIPv6(address) ? 6 : 4;
  const socket = createSocket({
    type: family === 6 ? "udp6" : "udp4",
    lookup: (host, _options, callback) => callback(null, host, family),
    // The default buffer (about 200 KiB) holds some 190 queries: a burst from many clients
    // overflows it while a GC pause holds the loop. Ask for 4 MiB; the kernel caps the request
    // at net.core.rmem_max.
    recvBufferSize: UDP_RECEIVE_BUFFER_BYTES,
  });
  const reply = (response: Buffer | null, to: RemoteInfo) => {
    if (response !== null) socket.send(response, to.port, to.address);
  };
  socket.on("message", (message, rinfo) => {
    const result = safely(handler, message, "udp", rinfo);
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

function listenTcp(address: string, port: number, bufferBytes: number, onConnection: (s: TcpSocket) => void): Promise<Server> {
  // The buffer size is each socket's highWaterMark both ways: write() reports a full buffer past
  // it, and a paused socket reads no more than that from the kernel.
  const server = createTcpServer({ allowHalfOpen: true, noDelay: true, highWaterMark: bufferBytes }, onConnection);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: address, exclusive: true }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

async function closeAll(udp: Socket, tcp: Server, connections: Set<TcpSocket>): Promise<void> {
  for (const socket of connections) socket.destroy();
  await Promise.all([
    new Promise<void>((resolve) => udp.close(() => resolve())),
    new Promise<void>((resolve) => tcp.close(() => resolve())),
  ]);
}
