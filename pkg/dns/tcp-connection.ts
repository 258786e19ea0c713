// One DNS-over-TCP connection (RFC 7766): many length-prefixed queries back to back, each answer
// written as soon as it is ready, in whatever order they complete, a few dozen per turn of the
// event loop so that one client's flood does not delay the others. What a client can cost is
// bounded three ways. Reading stops while its answers wait unread past the socket's write buffer
// (its highWaterMark, in bytes, set by the server) or while too many of its queries wait on the
// upstream, and goes on once they drain. A query must arrive whole within the read timeout of
// its first byte, so a client drip-feeding bytes does not keep its connection. And a connection
// with no traffic for the idle timeout is closed.
import type { Socket } from "node:net";
import type { Peer, QueryHandler, QueryResult, Transport } from "./query-handler.ts";
import type { TcpRejectReason } from "./tcp-admission.ts";
import { frameReader } from "./tcp-frames.ts";

export type TcpCloseReason = "read_timeout" | "idle_timeout";
export type TcpPauseReason = "write_buffer" | "in_flight";

/** What befalls TCP connections, for metrics: each call should cost no more than a counter. */
export interface TcpConnectionEvents {
  /** A connection was closed at accept: a connection cap was reached. */
  rejected(reason: TcpRejectReason): void;
  /** The server closed a connection: a query not whole in time, or no traffic at all. */
  timedOut(reason: TcpCloseReason): void;
  /** Reading a connection stopped until its client takes its answers or the upstream answers. */
  paused(reason: TcpPauseReason): void;
}

export interface TcpConnectionOptions {
  readonly handler: QueryHandler;
  readonly idleTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly events: TcpConnectionEvents;
  /** Socket errors other than the client's resets, which never stop the server. */
  readonly onError: (error: Error) => void;
}

/**
 * Queries one connection may have waiting on the upstream before it stops reading. Stub
 * resolvers have one or two in flight; each may come back as up to 64 KiB over TCP, so this
 * also bounds the answers that can land on a connection whose write buffer is already full.
 */
export const MAX_TCP_IN_FLIGHT = 16;

/**
 * Queries taken from one connection before the other clients get their turn: one chunk read can
 * hold 1,400 pipelined queries, and answering them all at once would keep every other client,
 * UDP ones included, waiting behind a single flood.
 */
const FRAMES_PER_TURN = 32;

export function serveTcpConnection(socket: Socket, options: TcpConnectionOptions): void {
  const { handler, events, onError } = options;
  const peer = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  let inFlight = 0;
  let peerEnded = false;
  /** The last write found the write buffer full: nothing is read until "drain". */
  let writeFull = false;
  /** Frames handled since this connection's turn began, and whether it is waiting for the next. */
  let framesThisTurn = 0;
  let yielding = false;
  let readDeadline: NodeJS.Timeout | null = null;

  const blocked = () => writeFull || yielding || inFlight >= MAX_TCP_IN_FLIGHT;
  const stopDeadline = () => {
    if (readDeadline !== null) clearTimeout(readDeadline);
    readDeadline = null;
  };
  const close = (reason: TcpCloseReason) => {
    events.timedOut(reason);
    socket.destroy();
  };
  const pause = (reason: TcpPauseReason) => {
    events.paused(reason);
    socket.pause();
    // The rest of a frame cannot arrive while we do not read: that time is not the client's.
    stopDeadline();
  };

  const write = (response: Buffer | null) => {
    if (response === null || socket.destroyed || !socket.writable) return;
    // The length and the response go out in one writev, without a copy of the response: it is
    // the handler's own, and a 16 KB answer copied once more per query adds up under load.
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(response.length, 0);
    const wasBlocked = blocked();
    socket.cork();
    socket.write(length);
    const room = socket.write(response);
    socket.uncork();
    if (room) return;
    writeFull = true;
    if (!wasBlocked) pause("write_buffer");
  };

  const reader = frameReader((frame) => {
    // The deadline covers one frame; the next one, even in the same chunk, gets its own.
    stopDeadline();
    const result: QueryResult = safely(handler, frame, "tcp", peer);
    if (result instanceof Promise) {
      const wasBlocked = blocked();
      inFlight++;
      if (!wasBlocked && blocked()) pause("in_flight");
      result.then(write, onError).finally(settle);
    } else {
      write(result);
    }
    if (++framesThisTurn >= FRAMES_PER_TURN && !blocked()) {
      yielding = true;
      socket.pause();
      stopDeadline();
      setImmediate(() => {
        yielding = false;
        unblock();
      });
    }
    return !blocked();
  });

  /** Runs the read deadline while the client owes the rest of a frame and we are reading. */
  const armDeadline = () => {
    if (!reader.midFrame || blocked()) stopDeadline();
    else readDeadline ??= setTimeout(() => close("read_timeout"), options.readTimeoutMs);
  };
  const endIfDone = () => {
    if (peerEnded && inFlight === 0 && !reader.holding) socket.end();
  };
  /** Reads again once nothing blocks: first the bytes held back, then the socket. */
  const unblock = () => {
    if (blocked() || socket.destroyed) return;
    framesThisTurn = 0;
    reader.resume();
    if (blocked()) return;
    armDeadline();
    socket.resume();
  };
  function settle() {
    inFlight--;
    unblock();
    endIfDone();
  }

  socket.setTimeout(options.idleTimeoutMs, () => close("idle_timeout"));
  socket.on("error", (err) => {
    // Resets are the client's business; anything else is worth a log line.
    if (!("code" in err) || (err.code !== "ECONNRESET" && err.code !== "EPIPE")) onError(err);
  });
  socket.on("drain", () => {
    writeFull = false;
    unblock();
  });
  socket.on("data", (chunk: Buffer) => {
    framesThisTurn = 0;
    reader.push(chunk);
    armDeadline();
  });
  socket.on("end", () => {
    peerEnded = true;
    stopDeadline();
    endIfDone();
  });
  socket.once("close", stopDeadline);
}

/**
 * The handler never throws by design; this keeps a bug in it from taking the socket down. Called
 * with the handler's arguments rather than a closure over them: a closure per query is garbage.
 */
export function safely(handler: QueryHandler, message: Buffer, transport: Transport, peer: Peer): QueryResult {
  try {
    return handler(message, transport, peer);
  } catch {
    return null;
  }
}
