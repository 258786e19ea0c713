// The TCP limits of the DNS server on real loopback sockets: a client that does not read its
// answers stops being read, a client that drip-feeds a query loses its connection, a client
// idle between whole queries keeps it, and connections past the caps are closed at accept.
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Packet } from "dns2";
import { afterEach, describe, expect, it } from "vitest";
import type { ForwardRequest, QueryHandler } from "./query-handler.ts";
import { TYPE } from "./records.ts";
import { createDnsServer, type DnsServer, type DnsServerOptions } from "./server.ts";
import type { TcpConnectionEvents } from "./tcp-connection.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

const WIDE = "wide.default.svc.cluster.local";
const NGINX = "nginx.default.svc.cluster.local";

/** A store whose headless Service "wide" has an A answer of about 16 KB. */
function wideStore() {
  const store = clusterStore();
  store.upsertService(service({ name: "wide", headless: true }));
  const endpoints = Array.from({ length: 1000 }, (_, i) => endpoint(`10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`));
  store.upsertEndpointSlice(slice({ name: "wide-1", serviceName: "wide", endpoints }));
  return store;
}

function frame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
}

/** Counts what the server reports, and the queries its handler was given. */
function recorder() {
  const seen = { queries: 0, rejected: [] as string[], timedOut: [] as string[], paused: [] as string[] };
  const events: TcpConnectionEvents = {
    rejected: (reason) => seen.rejected.push(reason),
    timedOut: (reason) => seen.timedOut.push(reason),
    paused: (reason) => seen.paused.push(reason),
  };
  const instrument = (handler: QueryHandler): QueryHandler => (message, transport, peer) => {
    seen.queries++;
    return handler(message, transport, peer);
  };
  return { seen, events, instrument };
}

/** A client connection that counts the whole frames it reads and notes when it closes. */
class Client {
  readonly socket: Socket;
  replies: Buffer[] = [];
  closed = false;
  #buffered = Buffer.alloc(0);

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("error", () => {});
    socket.once("close", () => (this.closed = true));
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 2 && this.#buffered.length >= 2 + this.#buffered.readUInt16BE(0)) {
        const length = this.#buffered.readUInt16BE(0);
        this.replies.push(Buffer.from(this.#buffered.subarray(2, 2 + length)));
        this.#buffered = this.#buffered.subarray(2 + length);
      }
    });
  }

  static open(port: number, localAddress = "127.0.0.1"): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress }, () => resolve(new Client(socket)));
      socket.once("error", reject);
    });
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

describe("DNS server TCP limits", () => {
  let server: DnsServer | null = null;
  const clients: Client[] = [];
  const start = async (options: Partial<DnsServerOptions>) => {
    server = await createDnsServer({ store: wideStore(), port: 0, address: "127.0.0.1", ...options });
    return server;
  };
  const open = async (localAddress?: string) => {
    const client = await Client.open(server?.port ?? 0, localAddress);
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await server?.close();
    server = null;
  });

  it("stops reading a client that leaves its answers unread, and answers every query once it reads", async () => {
    const { seen, events, instrument } = recorder();
    await start({ tcpEvents: events, instrument });
    const client = await open();
    client.socket.pause();
    const queries = 3000;
    const query = frame(queryBytes(WIDE, TYPE.A, { id: 5 }));
    client.socket.write(Buffer.concat(Array.from({ length: queries }, () => query)));

    // 3,000 answers of 16 KB are 48 MB; the kernel's buffers take a few of them, the server's
    // write buffer 16 KiB more, and there it stops reading: the rest of the queries wait unread.
    await until(() => seen.paused.includes("write_buffer"), "reading paused for the write buffer");
    await sleep(500);
    expect(seen.queries).toBeLessThan(queries);
    expect(server?.tcpConnections).toBe(1);

    client.socket.resume();
    await until(() => client.replies.length === queries, `all ${queries} answers read`, 60_000);
    expect(seen.queries).toBe(queries);
    expect(render(client.replies[queries - 1] ?? Buffer.alloc(0)).answer).toHaveLength(1000);
  });

  it("stops reading a client whose queries wait on the upstream, and goes on as they are answered", async () => {
    const { seen, events, instrument } = recorder();
    const waiting: (() => void)[] = [];
    const forward = (request: ForwardRequest) =>
      new Promise<Buffer>((resolve) => {
        const response = Packet.createResponseFromRequest(Packet.parse(request.message));
        waiting.push(() => resolve(response.toBuffer()));
      });
    await start({ tcpEvents: events, instrument, forward });
    const client = await open();
    const queries = 40;
    client.socket.write(Buffer.concat(Array.from({ length: queries }, (_, i) => frame(queryBytes(`q${i}.example.org`, TYPE.A, { id: i })))));

    await until(() => seen.paused.includes("in_flight"), "reading paused for the queries in flight");
    await sleep(300);
    expect(seen.queries).toBe(16);
    while (client.replies.length < queries) {
      for (const answer of waiting.splice(0)) answer();
      await sleep(10);
    }
    expect(new Set(client.replies.map((r) => r.readUInt16BE(0))).size).toBe(queries);
  });

  it("closes a connection whose query is not whole within the read timeout, though bytes keep coming", async () => {
    const { seen, events } = recorder();
    await start({ tcpEvents: events, tcp: { readTimeoutMs: 200, idleTimeoutMs: 60_000 } });
    const client = await open();
    client.socket.write(Buffer.from([0xff, 0xff]));
    for (let sent = 0; !client.closed && sent < 65535; sent++) {
      client.socket.write(Buffer.from([0]));
      await sleep(10);
    }
    expect(client.closed).toBe(true);
    expect(client.replies).toEqual([]);
    expect(seen.timedOut).toEqual(["read_timeout"]);
  });

  it("keeps a connection that waits between whole queries longer than the read timeout", async () => {
    const { seen, events } = recorder();
    await start({ tcpEvents: events, tcp: { readTimeoutMs: 50, idleTimeoutMs: 60_000 } });
    const client = await open();
    for (let id = 1; id <= 3; id++) {
      client.socket.write(frame(queryBytes(NGINX, TYPE.A, { id })));
      await until(() => client.replies.length === id, `answer ${id}`);
      await sleep(200);
    }
    expect(client.closed).toBe(false);
    expect(seen.timedOut).toEqual([]);
  });

  it("closes a connection with no traffic within the idle timeout", async () => {
    const { seen, events } = recorder();
    await start({ tcpEvents: events, tcp: { idleTimeoutMs: 100 } });
    const client = await open();
    await until(() => client.closed, "closed by the server");
    expect(seen.timedOut).toEqual(["idle_timeout"]);
  });

  it("closes connections past the cap per IP and in all at accept, and keeps serving the others and UDP", async () => {
    const { seen, events } = recorder();
    const dns = await start({ tcpEvents: events, tcp: { maxConnections: 3, maxConnectionsPerIp: 2 } });
    const first = [await open("127.0.0.1"), await open("127.0.0.1")];
    const third = await open("127.0.0.1");
    await until(() => third.closed, "the third from 127.0.0.1 closed");
    const other = await open("127.0.0.2");
    const past = await open("127.0.0.3");
    await until(() => past.closed, "the fourth in all closed");
    expect(seen.rejected).toEqual(["max_connections_per_ip", "max_connections"]);
    expect(dns.tcpConnections).toBe(3);

    for (const [i, client] of [...first, other].entries()) {
      client.socket.write(frame(queryBytes(NGINX, TYPE.A, { id: 70 + i })));
      await until(() => client.replies.length === 1, `an answer on kept connection ${i}`);
      expect(client.closed).toBe(false);
    }
    const udp = createSocket("udp4");
    const reply = new Promise<Buffer>((resolve) => udp.once("message", resolve));
    udp.send(queryBytes(NGINX, TYPE.A, { id: 80 }), dns.port, "127.0.0.1");
    expect(render(await reply).answer).toEqual([`${NGINX} A 10.96.0.10`]);
    udp.close();

    other.socket.destroy();
    await until(() => dns.tcpConnections === 2, "the closed connection released");
    const again = await open("127.0.0.3");
    again.socket.write(frame(queryBytes(NGINX, TYPE.A, { id: 90 })));
    await until(() => again.replies.length === 1, "an answer once there is room");
  });
});
