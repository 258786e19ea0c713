// One UDP exchange with an upstream on a socket of its own (RFC 5452 §9.2), as Unbound does: a
// fresh socket per query, connected to the upstream and closed when the query ends. A forger
// must then guess the source port (Linux picks a random free ephemeral port for each bind) as
// well as the ID and the question; the kernel drops what does not come from the upstream's
// address and port, and a datagram that does but is not the answer is dropped and counted. One
// answer per socket also means no shared receive buffer to overflow under load.
import { randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Upstream } from "./forwarder.ts";
import { answersQuery, buildQuery, type DnssecBits } from "./upstream-query.ts";

export interface UdpExchangeOptions {
  readonly timeoutMs: number;
  /** The UDP payload size advertised upstream. */
  readonly udpSize: number;
  /** A datagram from the upstream's address and port that was not the answer. */
  readonly onMismatch: () => void;
}

/** Each upstream's address family, worked out once: isIPv6 is a long regular expression. */
const families = new WeakMap<Upstream, 4 | 6>();

function familyOf(upstream: Upstream): 4 | 6 {
  let family = families.get(upstream);
  if (family === undefined) {
    family = isIPv6(upstream.address) ? 6 : 4;
    families.set(upstream, family);
  }
  return family;
}

/** Gives out sockets for queries, at most `limit` open at once; closing one frees its place. */
export class QuerySockets {
  /** Each open socket with what ends its query early (on close). */
  readonly #open = new Map<Socket, () => void>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Null when `limit` queries are already in flight. `abort` ends the query if closeAll comes first. */
  open(upstream: Upstream, abort: () => void): Socket | null {
    if (this.#open.size >= this.#limit) return null;
    const family = familyOf(upstream);
    const socket = createSocket({
      type: family === 6 ? "udp6" : "udp4",
      // Upstreams are IP literals: skip the resolver step dgram puts before connect.
      lookup: (host, _options, callback) => callback(null, host, family),
    });
    socket.unref();
    this.#open.set(socket, abort);
    return socket;
  }

  close(socket: Socket): void {
    if (!this.#open.delete(socket)) return;
    try {
      socket.close();
    } catch {
      // Closed already, by a failed connect.
    }
  }

  /** Ends every query in flight. */
  closeAll(): void {
    for (const abort of [...this.#open.values()]) abort();
  }
}

/** Asks `upstream` one question over UDP; rejects on timeout, a socket error (an ICMP refusal) or no free socket. */
export function udpExchange(
  sockets: QuerySockets,
  upstream: Upstream,
  question: Buffer,
  bits: DnssecBits,
  options: UdpExchangeOptions,
): Promise<Buffer> {
  const id = randomInt(0x10000);
  const message = buildQuery(id, question, options.udpSize, bits);
  return new Promise((resolve, reject) => {
    let finished = false;
    const socket = sockets.open(upstream, () => finish(new Error("the forwarder closed")));
    if (socket === null) {
      reject(new Error("too many queries in flight upstream"));
      return;
    }
    const timer = setTimeout(() => finish(new Error(`upstream ${upstream.address}:${upstream.port} timed out`)), options.timeoutMs);
    function finish(error: Error | null, response?: Buffer): void {
      finished = true;
      clearTimeout(timer);
      if (socket !== null) sockets.close(socket);
      if (response !== undefined) resolve(response);
      else reject(error ?? new Error("no answer"));
    }
    socket.on("message", (response) => {
      if (answersQuery(response, id, question)) finish(null, response);
      else options.onMismatch();
    });
    socket.on("error", (err) => finish(err));
    // dgram calls back with the error when the connect fails (no route to the upstream, say);
    // a send on the unconnected socket would then throw out of the callback.
    socket.connect(upstream.port, upstream.address, (err?: Error) => {
      // The query may have ended (the forwarder closed) while connecting.
      if (finished) return;
      if (err !== undefined && err !== null) {
        finish(err);
        return;
      }
      try {
        socket.send(message);
      } catch (sendError) {
        finish(sendError instanceof Error ? sendError : new Error(String(sendError)));
      }
    });
  });
}
