// An upstream DNS server for tests on 127.0.0.1, over UDP and TCP on one port: it answers each
// question with an A record (TTL and address chosen by the test), counts what arrives by
// transport and TCP connection, and can hold its answers until released, or stay silent, so a
// test sees how the forwarder asks (UDP or TCP, on how many connections, how many at once).
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import { Packet } from "dns2";
import { frameReader } from "../tcp-frames.ts";

export interface LoopbackUpstreamOptions {
  /** The A record's TTL; 60 by default. */
  ttl?: number;
  address?: string;
  /** Hold answers until release(). */
  hold?: boolean;
  /** Answer nothing. */
  silent?: boolean;
  /** Answer UDP with TC set and no records. */
  truncateUdp?: boolean;
  /** Answer with this rcode and no records (2: SERVFAIL). */
  rcode?: number;
  /** Over TCP, send each answer twice in one write: a frame nobody asked for after the answer. */
  doubleTcpAnswers?: boolean;
}

export interface Asked {
  readonly name: string;
  readonly transport: "udp" | "tcp";
  /** For TCP, which connection (1, 2, ...) it came on. */
  readonly connection: number;
}

export class LoopbackUpstream {
  readonly port: number;
  readonly asked: Asked[] = [];
  readonly options: LoopbackUpstreamOptions;
  readonly #udp: Socket;
  readonly #tcp: Server;
  readonly #held: (() => void)[] = [];
  readonly #connections = new Set<TcpSocket>();
  #accepted = 0;

  private constructor(port: number, udp: Socket, tcp: Server, options: LoopbackUpstreamOptions) {
    this.port = port;
    this.#udp = udp;
    this.#tcp = tcp;
    this.options = options;
  }

  static async start(options: LoopbackUpstreamOptions = {}): Promise<LoopbackUpstream> {
    for (;;) {
      const tcp = createServer();
      await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
      const address = tcp.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      const udp = createSocket("udp4");
      const bound = await new Promise<boolean>((resolve) => {
        udp.once("error", () => resolve(false));
        udp.bind(port, "127.0.0.1", () => resolve(true));
      });
      if (!bound) {
        // The UDP port was taken: try another pair.
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        continue;
      }
      const upstream = new LoopbackUpstream(port, udp, tcp, options);
      upstream.#listen();
      return upstream;
    }
  }

  /** TCP connections accepted so far. */
  get connectionsAccepted(): number {
    return this.#accepted;
  }

  /** TCP connections open now. */
  get connectionsOpen(): number {
    return this.#connections.size;
  }

  /** Answers held so far. */
  get holding(): number {
    return this.#held.length;
  }

  release(): void {
    for (const send of this.#held.splice(0)) send();
  }

  /** Closes every open TCP connection from this side, as an upstream that drops idle clients. */
  dropConnections(): void {
    for (const socket of this.#connections) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }

  #listen(): void {
    this.#udp.on("message", (message: Buffer, rinfo: RemoteInfo) => {
      const response = this.#answer(message, "udp", 0);
      if (response !== null) this.#send(() => this.#udp.send(response, rinfo.port, rinfo.address));
    });
    this.#tcp.on("connection", (socket) => {
      const connection = ++this.#accepted;
      this.#connections.add(socket);
      socket.on("close", () => this.#connections.delete(socket));
      socket.on("error", () => {});
      const reader = frameReader((frame) => {
        const response = this.#answer(frame, "tcp", connection);
        if (response === null) return;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(response.length);
        this.#send(() => {
          const frame = Buffer.concat([length, response]);
          if (!socket.destroyed) socket.write(this.options.doubleTcpAnswers === true ? Buffer.concat([frame, frame]) : frame);
        });
      });
      socket.on("data", (chunk: Buffer) => reader.push(chunk));
    });
  }

  #send(send: () => void): void {
    if (this.options.hold === true) this.#held.push(send);
    else send();
  }

  #answer(message: Buffer, transport: "udp" | "tcp", connection: number): Buffer | null {
    const query = Packet.parse(message);
    const question = query.questions[0];
    if (question === undefined) return null;
    this.asked.push({ name: question.name.toLowerCase(), transport, connection });
    if (this.options.silent === true) return null;
    const response = Packet.createResponseFromRequest(query);
    response.header.ra = 1;
    if (this.options.rcode !== undefined) {
      response.header.rcode = this.options.rcode;
      return response.toBuffer();
    }
    if (transport === "udp" && this.options.truncateUdp === true) {
      response.header.tc = 1;
      return response.toBuffer();
    }
    response.answers.push(new Packet.Resource({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: this.options.ttl ?? 60, address: this.options.address ?? "192.0.2.1" }));
    return response.toBuffer();
  }
}
