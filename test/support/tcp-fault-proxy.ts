// A TCP relay between a client and the real API server that a test can break on purpose: reset
// every open connection, or refuse new ones for a while. Nothing is faked: bytes pass through
// unchanged (TLS included), only the network between the two fails.
import { createServer, connect, type Server, type Socket } from "node:net";

export class TcpFaultProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #blocked = false;
  #connections = 0;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      if (this.#blocked) {
        client.resetAndDestroy();
        return;
      }
      this.#connections++;
      const upstream = connect(target.port, target.host);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  static async start(target: { host: string; port: number }): Promise<TcpFaultProxy> {
    const p = new TcpFaultProxy(target);
    await new Promise<void>((resolve) => p.#server.listen(0, "127.0.0.1", resolve));
    const addr = p.#server.address();
    p.port = typeof addr === "object" && addr !== null ? addr.port : 0;
    return p;
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Resets every open connection, as a dropped network path would. */
  resetAll(): void {
    for (const s of this.#sockets) s.resetAndDestroy();
    this.#sockets.clear();
  }

  /** Resets open connections and refuses new ones until unblock(). */
  block(): void {
    this.#blocked = true;
    this.resetAll();
  }

  unblock(): void {
    this.#blocked = false;
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
