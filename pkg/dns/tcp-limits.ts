// The limits on signpost-dns's TCP connections and their defaults, apart from the server so that
// the command line can show the defaults without loading it.

export interface TcpLimits {
  /** Connections open at once, in all; one more is closed as soon as it is accepted. */
  readonly maxConnections: number;
  /** Connections open at once from one client IP address. */
  readonly maxConnectionsPerIp: number;
  /** A connection with no traffic this long is closed (RFC 7766 §6.2.3). */
  readonly idleTimeoutMs: number;
  /** A query must arrive whole within this long of its first byte. */
  readonly readTimeoutMs: number;
  /** Bytes of answers a connection may have queued unread before it is no longer read. */
  readonly writeBufferBytes: number;
}

/**
 * CoreDNS's read and idle timeouts (3 s, 10 s); caps that a cluster's own resolvers stay far
 * below; Node's former stream buffer of 16 KiB, so a stalled client holds its 16 KiB of answers
 * (one more answer at most), 16 KiB read ahead and the one chunk of queries it sent last.
 */
export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 1000,
  maxConnectionsPerIp: 100,
  idleTimeoutMs: 10_000,
  readTimeoutMs: 3_000,
  writeBufferBytes: 16 * 1024,
};
