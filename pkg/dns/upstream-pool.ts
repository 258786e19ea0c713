// TCP connections to one upstream, kept open and reused, as CoreDNS's forward keeps its sockets:
// a query takes an idle connection (the most recently used) or opens one, and gives it back
// when its answer is read; an idle connection is closed after `expireMs` (CoreDNS's `expire`,
// 10 s by default) or as soon as the upstream closes it or sends anything unasked. One query at
// a time on a connection, and at most `maxConnections` open (busy and idle) to the upstream:
// past it a query waits for one, at most `maxWaiting` of them. A query that fails on a reused
// connection before any byte of its answer arrived (the upstream had closed it) is asked again
// on a new one, once.
import { randomInt } from "node:crypto";
import { connect, type Socket } from "node:net";
import { ConcurrencyLimit } from "./concurrency-limit.ts";
import type { Upstream } from "./forwarder.ts";
import { frameReader } from "./tcp-frames.ts";
import { answersQuery, buildQuery, type DnssecBits } from "./upstream-query.ts";

export interface UpstreamPoolOptions {
  /** An idle connection is closed after this long; 0 keeps none (a connection per query). */
  readonly expireMs: number;
  /** Connections open at once to this upstream, busy or idle. */
  readonly maxConnections: number;
  /** Queries waiting for a connection; one more fails at once. */
  readonly maxWaiting: number;
}

export const DEFAULT_EXPIRE_MS = 10_000;

interface Pending {
  readonly id: number;
  readonly question: Buffer;
  readonly resolve: (response: Buffer) => void;
  readonly reject: (error: Error) => void;
}

/** One TCP connection: its framing, the query it carries (if any) and whether it is idle. */
class Connection {
  readonly socket: Socket;
  pending: Pending | null = null;
  /** Bytes of the current answer have arrived: a failure now is not a stale connection's. */
  answering = false;
  /** The upstream was silent past the query's timeout: asking it again would not help. */
  timedOut = false;
  closed = false;
  readonly #onClose: () => void;

  constructor(upstream: Upstream, onClose: () => void) {
    this.#onClose = onClose;
    this.socket = connect({ host: upstream.address, port: upstream.port });
    this.socket.setNoDelay(true);
    const reader = frameReader((frame) => this.#answer(frame));
    this.socket.on("data", (chunk: Buffer) => {
      if (this.pending === null) {
        this.destroy(new Error("the upstream sent data nobody asked for"));
        return;
      }
      this.answering = true;
      reader.push(chunk);
    });
    this.socket.on("error", (err) => this.destroy(err));
    this.socket.on("close", () => this.destroy(new Error("the upstream closed the connection")));
    this.socket.on("timeout", () => {
      this.timedOut = this.pending !== null;
      this.destroy(new Error(`upstream ${upstream.address}:${upstream.port} timed out over TCP`));
    });
  }

  destroy(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
    this.#onClose();
  }

  #answer(frame: Buffer): boolean {
    const pending = this.pending;
    if (pending === null) {
      // A second frame in the chunk that carried the answer: nobody asked for it.
      this.destroy(new Error("the upstream sent data nobody asked for"));
      return false;
    }
    if (!answersQuery(frame, pending.id, pending.question)) {
      this.destroy(new Error("upstream answered another question over TCP"));
      return false;
    }
    this.pending = null;
    this.answering = false;
    pending.resolve(frame);
    return true;
  }
}

export class UpstreamPool {
  readonly #upstream: Upstream;
  readonly #options: UpstreamPoolOptions;
  readonly #slots: ConcurrencyLimit;
  /** Idle connections, the most recently used last. */
  readonly #idle: Connection[] = [];
  #open = 0;
  #opened = 0;
  #closing = false;

  constructor(upstream: Upstream, options: UpstreamPoolOptions) {
    this.#upstream = upstream;
    this.#options = options;
    this.#slots = new ConcurrencyLimit(options.maxConnections, options.maxWaiting);
  }

  /** Connections open now, busy or idle. */
  get open(): number {
    return this.#open;
  }

  get idle(): number {
    return this.#idle.length;
  }

  /** Connections opened since the pool was made: what reuse saves. */
  get opened(): number {
    return this.#opened;
  }

  /** Asks `question` over TCP; rejects on timeout, a connection error or a wrong answer. */
  exchange(question: Buffer, bits: DnssecBits, udpSize: number, timeoutMs: number): Promise<Buffer> {
    return this.#slots.run(async () => {
      const reused = this.#idle.pop();
      if (reused !== undefined) {
        try {
          return await this.#ask(reused, question, bits, udpSize, timeoutMs);
        } catch (err) {
          // The upstream closed the idle connection before our query reached it: ask anew.
          if (reused.answering || reused.timedOut) throw err;
        }
      }
      return this.#ask(this.#connect(), question, bits, udpSize, timeoutMs);
    });
  }

  /** Closes every idle connection; busy ones close when their query ends. */
  close(): void {
    this.#closing = true;
    for (const connection of this.#idle.splice(0)) connection.destroy(new Error("the forwarder closed"));
  }

  #connect(): Connection {
    this.#open++;
    this.#opened++;
    const connection = new Connection(this.#upstream, () => {
      this.#open--;
      const at = this.#idle.indexOf(connection);
      if (at >= 0) this.#idle.splice(at, 1);
    });
    return connection;
  }

  async #ask(connection: Connection, question: Buffer, bits: DnssecBits, udpSize: number, timeoutMs: number): Promise<Buffer> {
    if (connection.closed) throw new Error("the upstream closed the connection");
    const id = randomInt(0x10000);
    const message = buildQuery(id, question, udpSize, bits);
    const frame = Buffer.alloc(2 + message.length);
    frame.writeUInt16BE(message.length, 0);
    message.copy(frame, 2);
    connection.answering = false;
    connection.socket.setTimeout(timeoutMs);
    const response = await new Promise<Buffer>((resolve, reject) => {
      connection.pending = { id, question, resolve, reject };
      connection.socket.write(frame);
    });
    this.#release(connection);
    return response;
  }

  #release(connection: Connection): void {
    if (connection.closed) return;
    if (this.#closing || this.#options.expireMs === 0) {
      connection.destroy(new Error("not kept"));
      return;
    }
    // Idle for expireMs with nothing sent or received: the socket's timeout closes it.
    connection.socket.setTimeout(this.#options.expireMs);
    this.#idle.push(connection);
  }
}
