// Which TCP connections signpost-dns takes: at most so many at once in all, and so many from
// one source address (Unbound's incoming-num-tcp and tcp-connection-limit). A connection past
// either cap is closed as soon as it is accepted, so the clients already connected keep their
// service and one client cannot take every descriptor the process has.

export type TcpRejectReason = "max_connections" | "max_connections_per_ip";

export class TcpAdmission {
  readonly #maxConnections: number;
  readonly #maxPerSource: number;
  #open = 0;
  readonly #bySource = new Map<string, number>();

  constructor(maxConnections: number, maxPerSource: number) {
    this.#maxConnections = maxConnections;
    this.#maxPerSource = maxPerSource;
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.#open;
  }

  /** Takes a connection from `source`, or names the cap that turns it away (and takes nothing). */
  admit(source: string): TcpRejectReason | null {
    if (this.#open >= this.#maxConnections) return "max_connections";
    const fromSource = this.#bySource.get(source) ?? 0;
    if (fromSource >= this.#maxPerSource) return "max_connections_per_ip";
    this.#open++;
    this.#bySource.set(source, fromSource + 1);
    return null;
  }

  /** Gives back a connection `admit` took; once per admitted connection. */
  release(source: string): void {
    const fromSource = this.#bySource.get(source) ?? 0;
    if (fromSource <= 0) return;
    this.#open--;
    // Sources come and go: keep no entry for one with nothing open.
    if (fromSource === 1) this.#bySource.delete(source);
    else this.#bySource.set(source, fromSource - 1);
  }
}
