// The server on 127.0.0.1, asked by the real dig over UDP and TCP. Every packet stays on the
// loopback interface; names outside the zone go to an in-process stand-in upstream.
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { promisify } from "node:util";
import { Packet } from "dns2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ForwardRequest } from "./query-handler.ts";
import { TYPE } from "./records.ts";
import { createDnsServer, type DnsServer } from "./server.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";
import { hasDig } from "./testing/dig.ts";
import { underTestScript } from "../../test/support/under-test-script.ts";

const run = promisify(execFile);


async function upstream(request: ForwardRequest): Promise<Buffer> {
  const query = Packet.parse(request.message);
  const response = Packet.createResponseFromRequest(query);
  response.header.ra = 1;
  if (request.qtype === TYPE.A) {
    response.answers.push(new Packet.Resource({ name: request.name, type: TYPE.A, class: 1, ttl: 60, address: "192.0.2.1" }));
  }
  return Promise.resolve(response.toBuffer());
}

function bigStore() {
  const store = clusterStore();
  store.upsertService(service({ name: "big", headless: true }));
  const endpoints = Array.from({ length: 60 }, (_, i) => endpoint(`10.1.0.${i + 1}`));
  store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints }));
  return store;
}

// Skipped only by a developer's vitest on a machine without dig; under ./hack/test.sh it always
// runs (setup installs dnsutils), and fails if dig is gone.
describe.skipIf(!hasDig() && !underTestScript)("DNS server, asked by dig", () => {
  let server: DnsServer;
  const dig = async (...args: string[]) => {
    const { stdout } = await run("dig", ["@127.0.0.1", "-p", String(server.port), "+time=2", "+tries=1", ...args]);
    return stdout;
  };
  const short = async (...args: string[]) => (await dig("+short", ...args)).trim().split("\n").filter(Boolean);
  const section = (out: string, name: string) => {
    const start = out.indexOf(`;; ${name} SECTION:`);
    if (start < 0) return [];
    const lines = out.slice(start).split("\n").slice(1);
    const end = lines.findIndex((l) => l.trim() === "");
    return lines.slice(0, end < 0 ? lines.length : end).map((l) => l.split(/\s+/).join(" "));
  };

  beforeAll(async () => {
    server = await createDnsServer({ store: bigStore(), port: 0, address: "127.0.0.1", forward: upstream });
  });
  afterAll(async () => {
    await server.close();
  });

  for (const transport of ["+notcp", "+tcp"]) {
    describe(`over ${transport === "+tcp" ? "TCP" : "UDP"}`, () => {
      it("answers A and AAAA", async () => {
        expect(await short(transport, "nginx.default.svc.cluster.local", "A")).toEqual(["10.96.0.10"]);
        expect(await short(transport, "dual.default.svc.cluster.local", "AAAA")).toEqual(["fd00:10:96::20"]);
        expect(await short(transport, "web.default.svc.cluster.local", "A")).toEqual([
          "10.244.1.10",
          "10.244.2.11",
          "10.244.3.12",
        ]);
      });

      it("answers SRV, with the targets' addresses as additional records", async () => {
        const out = await dig(transport, "_http._tcp.web.default.svc.cluster.local", "SRV");
        expect(section(out, "ANSWER")).toEqual([
          "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 33 80 10-244-3-12.web.default.svc.cluster.local.",
          "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 33 80 web-0.web.default.svc.cluster.local.",
          "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 33 80 web-1.web.default.svc.cluster.local.",
        ]);
        expect(section(out, "ADDITIONAL")).toContain("web-0.web.default.svc.cluster.local. 5 IN A 10.244.1.10");
      });

      it("answers PTR for a ClusterIP and an endpoint", async () => {
        expect(await short(transport, "-x", "10.96.0.10")).toEqual(["nginx.default.svc.cluster.local."]);
        expect(await short(transport, "-x", "10.244.1.10")).toEqual(["web-0.web.default.svc.cluster.local."]);
        expect(await short(transport, "-x", "fd00:10:96::20")).toEqual(["dual.default.svc.cluster.local."]);
      });

      it("answers the schema version TXT", async () => {
        expect(await short(transport, "dns-version.cluster.local", "TXT")).toEqual(['"1.1.0"']);
      });

      it("tells NXDOMAIN from NODATA, both with the zone's SOA", async () => {
        const nx = await dig(transport, "nope.default.svc.cluster.local", "A");
        expect(nx).toContain("status: NXDOMAIN");
        expect(section(nx, "AUTHORITY")[0]).toMatch(
          /^cluster\.local\. 5 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/,
        );
        const nodata = await dig(transport, "nginx.default.svc.cluster.local", "AAAA");
        expect(nodata).toContain("status: NOERROR");
        expect(nodata).toContain("ANSWER: 0, AUTHORITY: 1");
        expect(await dig(transport, "default.svc.cluster.local", "A")).toContain("status: NOERROR");
        expect(await dig(transport, "nope.svc.cluster.local", "A")).toContain("status: NXDOMAIN");
      });

      it("echoes the question in the client's case", async () => {
        const out = await dig(transport, "NGINX.Default.SVC.Cluster.Local", "A");
        expect(section(out, "QUESTION")).toEqual([";NGINX.Default.SVC.Cluster.Local. IN A"]);
        expect(section(out, "ANSWER")).toEqual(["NGINX.Default.SVC.Cluster.Local. 5 IN A 10.96.0.10"]);
      });

      it("answers CNAME plus the upstream's address for an ExternalName, and forwards other names", async () => {
        expect(await short(transport, "search.default.svc.cluster.local", "A")).toEqual([
          "search.example.org.",
          "192.0.2.1",
        ]);
        expect(await short(transport, "example.org", "A")).toEqual(["192.0.2.1"]);
      });
    });
  }

  it("refuses AXFR", async () => {
    expect(await dig("cluster.local", "AXFR")).toContain("Transfer failed");
  });

  it("echoes EDNS with the client's UDP size, and leaves it out without EDNS", async () => {
    expect(await dig("+bufsize=1232", "nginx.default.svc.cluster.local")).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
    expect(await dig("+noedns", "nginx.default.svc.cluster.local")).not.toContain("OPT PSEUDOSECTION");
  });

  it("sets TC when the answer does not fit, and dig gets all of it by retrying over TCP", async () => {
    const truncated = await dig("+notcp", "+ignore", "+noedns", "big.default.svc.cluster.local", "A");
    expect(truncated).toMatch(/flags: qr aa tc rd ra;/);
    expect(truncated).toContain("ANSWER: 0");
    const smallEdns = await dig("+notcp", "+ignore", "+bufsize=512", "big.default.svc.cluster.local", "A");
    expect(smallEdns).toMatch(/flags: qr aa tc rd ra;/);
    expect(await short("+notcp", "+noedns", "big.default.svc.cluster.local", "A")).toHaveLength(60);
    const roomy = await dig("+notcp", "+ignore", "+bufsize=4096", "big.default.svc.cluster.local", "A");
    expect(roomy).toContain("ANSWER: 60");
  });

  it("answers dig right after a storm of malformed datagrams", async () => {
    const socket = createSocket("udp4");
    for (let i = 0; i < 500; i++) {
      const junk = Buffer.alloc(12 + (i % 40), i & 0xff);
      junk[2] = 0x01;
      await new Promise<void>((resolve) => socket.send(junk, server.port, "127.0.0.1", () => resolve()));
    }
    socket.close();
    expect(await short("nginx.default.svc.cluster.local")).toEqual(["10.96.0.10"]);
  });
});

describe("DNS server over raw TCP", () => {
  let server: DnsServer;
  // A slow upstream, so a forwarded query is surely answered after the cluster names.
  const slowUpstream = (request: ForwardRequest) =>
    new Promise<Buffer>((resolve) => setTimeout(() => resolve(upstream(request)), 50));
  beforeAll(async () => {
    server = await createDnsServer({ store: clusterStore(), port: 0, address: "127.0.0.1", forward: slowUpstream });
  });
  afterAll(async () => {
    await server.close();
  });

  const frame = (message: Buffer) => Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);

  /** Reads `count` length-prefixed messages from the socket. */
  function readFrames(socket: Socket, count: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const out: Buffer[] = [];
      socket.on("error", reject);
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const length = buffered.readUInt16BE(0);
          out.push(buffered.subarray(2, 2 + length));
          buffered = buffered.subarray(2 + length);
        }
        if (out.length >= count) resolve(out);
      });
    });
  }

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => resolve(socket));
      socket.once("error", reject);
    });
  }

  it("answers several pipelined queries on one connection, each as it completes", async () => {
    const socket = await open();
    const replies = readFrames(socket, 4);
    socket.write(
      Buffer.concat([
        frame(queryBytes("example.org", TYPE.A, { id: 1 })),
        frame(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 2 })),
        frame(queryBytes("dual.default.svc.cluster.local", TYPE.AAAA, { id: 3 })),
        frame(queryBytes("nope.default.svc.cluster.local", TYPE.A, { id: 4 })),
      ]),
    );
    const rendered = (await replies).map((r) => render(r));
    socket.destroy();
    const byId = new Map(rendered.map((r) => [r.id, r]));
    expect(byId.get(1)?.answer).toEqual(["example.org A 192.0.2.1"]);
    expect(byId.get(2)?.answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
    expect(byId.get(3)?.answer).toEqual(["dual.default.svc.cluster.local AAAA fd00:10:96::20"]);
    expect(byId.get(4)?.rcode).toBe(3);
    // The forwarded query was first on the wire but is answered after the cluster names.
    expect(rendered[0]?.id).toBe(2);
  });

  it("reassembles a query split across writes", async () => {
    const socket = await open();
    const replies = readFrames(socket, 1);
    const bytes = frame(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 9 }));
    for (const byte of bytes) {
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [reply] = await replies;
    socket.destroy();
    expect(reply && render(reply).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
  });

  it("answers FORMERR to a malformed frame and keeps the connection for the next one", async () => {
    const socket = await open();
    const replies = readFrames(socket, 2);
    const bad = Buffer.from(queryBytes("a.cluster.local", TYPE.A, { id: 11 }));
    bad.writeUInt16BE(0xffff, 4);
    socket.write(Buffer.concat([frame(bad), frame(Buffer.from([1, 2, 3])), frame(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 12 }))]));
    const [first, second] = await replies;
    socket.destroy();
    expect(first && render(first)).toMatchObject({ id: 11, rcode: 1 });
    expect(second && render(second)).toMatchObject({ id: 12, rcode: 0 });
  });

  it("serves others while a client sits on half a frame", async () => {
    const stalled = await open();
    stalled.write(Buffer.from([0, 40, 1, 2, 3]));
    const socket = await open();
    const replies = readFrames(socket, 1);
    socket.write(frame(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 21 })));
    const [reply] = await replies;
    expect(reply && render(reply).id).toBe(21);
    socket.destroy();
    stalled.destroy();
  });

  it("answers a client that half-closes right after its query", async () => {
    const socket = await open();
    const replies = readFrames(socket, 2);
    socket.end(
      Buffer.concat([
        frame(queryBytes("example.org", TYPE.A, { id: 31 })),
        frame(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 32 })),
      ]),
    );
    const ids = (await replies).map((r) => render(r).id).sort();
    expect(ids).toEqual([31, 32]);
    socket.destroy();
  });

  it("refuses IXFR", async () => {
    const socket = await open();
    const replies = readFrames(socket, 1);
    socket.write(frame(queryBytes("cluster.local", TYPE.IXFR, { id: 41 })));
    const [reply] = await replies;
    socket.destroy();
    expect(reply && render(reply)).toMatchObject({ id: 41, rcode: 5, answer: [] });
  });

  it("closes a connection that stays idle past the timeout", async () => {
    const quick = await createDnsServer({ store: clusterStore(), port: 0, address: "127.0.0.1", tcp: { idleTimeoutMs: 100 } });
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect(quick.port, "127.0.0.1", () => resolve(s));
    });
    socket.write(Buffer.from([0]));
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await quick.close();
  });
});

describe("DNS server sockets", () => {
  it("listens on UDP and TCP on the same port, on IPv6 loopback too", async () => {
    let server: DnsServer;
    try {
      server = await createDnsServer({ store: clusterStore(), port: 0, address: "::1" });
    } catch {
      return; // no IPv6 loopback on this machine
    }
    const udp = createSocket("udp6");
    const reply = new Promise<Buffer>((resolve) => udp.once("message", resolve));
    udp.send(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 3 }), server.port, "::1");
    expect(render(await reply).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
    udp.close();
    await server.close();
  });
});
