import { randomBytes } from "node:crypto";
import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { createQueryHandler, type ForwardRequest, type QueryResult } from "./query-handler.ts";
import { RCODE, TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { forwardRequest, queryBytes, render } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

function sync(result: QueryResult): Buffer {
  if (!(result instanceof Buffer)) throw new Error("expected a synchronous answer");
  return result;
}

/** A stand-in upstream: answers A queries with 192.0.2.1, under its own message ID. */
async function upstream(request: ForwardRequest): Promise<Buffer> {
  const query = Packet.parse(request.message);
  const response = Packet.createResponseFromRequest(query);
  response.header.ra = 1;
  response.header.id = query.header.id;
  if (request.qtype === TYPE.A) {
    response.answers.push(
      new Packet.Resource({ name: request.name, type: TYPE.A, class: 1, ttl: 60, address: "192.0.2.1" }),
    );
  }
  return Promise.resolve(response.toBuffer());
}

describe("query handler", () => {
  it("answers cluster names synchronously", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    const out = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 5 }), "udp"));
    expect(render(out)).toMatchObject({ id: 5, rcode: 0, answer: ["nginx.default.svc.cluster.local A 10.96.0.10"] });
  });

  it("refuses names outside the zone when it has no upstream", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    expect(render(sync(handle(queryBytes("example.org", TYPE.A), "udp")))).toMatchObject({
      rcode: RCODE.REFUSED,
      question: "example.org A",
    });
  });

  it("passes names outside the zone to the upstream and relays its answer under the client's ID", async () => {
    const requests: string[] = [];
    const handle = createQueryHandler({
      store: clusterStore(),
      forward: (request) => {
        requests.push(`${request.name} ${request.qtype}`);
        return upstream(request);
      },
    });
    const out = await handle(queryBytes("Example.ORG", TYPE.A, { id: 31 }), "udp");
    expect(out && render(out)).toMatchObject({ id: 31, flags: "qr rd ra", answer: ["Example.ORG A 192.0.2.1"] });
    expect(requests).toEqual(["example.org 1"]);
  });

  it("relays an answer the forwarder has at hand (a cache hit) in the same turn, under the client's ID", async () => {
    const held = await upstream(forwardRequest("example.org"));
    const handle = createQueryHandler({ store: clusterStore(), forward: () => held });
    const out = sync(handle(queryBytes("example.org", TYPE.A, { id: 77 }), "udp"));
    expect(render(out)).toMatchObject({ id: 77, flags: "qr rd ra", answer: ["example.org A 192.0.2.1"] });
  });

  it("answers SERVFAIL when the forwarder throws before it has a promise", () => {
    const handle = createQueryHandler({
      store: clusterStore(),
      forward: () => {
        throw new Error("no upstream left");
      },
    });
    expect(render(sync(handle(queryBytes("example.org", TYPE.A), "udp"))).rcode).toBe(RCODE.SERVFAIL);
  });

  it("answers SERVFAIL when the upstream fails", async () => {
    const handle = createQueryHandler({ store: clusterStore(), forward: () => Promise.reject(new Error("down")) });
    const out = await handle(queryBytes("example.org", TYPE.A), "udp");
    expect(out && render(out).rcode).toBe(RCODE.SERVFAIL);
  });

  it("answers an ExternalName asked for A with the CNAME and the upstream's records for its target", async () => {
    const handle = createQueryHandler({ store: clusterStore(), forward: upstream });
    const out = await handle(queryBytes("search.default.svc.cluster.local", TYPE.A), "udp");
    expect(out && render(out)).toMatchObject({
      rcode: 0,
      flags: "qr aa rd ra",
      answer: ["search.default.svc.cluster.local CNAME search.example.org", "search.example.org A 192.0.2.1"],
    });
  });

  it("answers an ExternalName with the CNAME alone when there is no upstream", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    const out = sync(handle(queryBytes("search.default.svc.cluster.local", TYPE.A), "udp"));
    expect(render(out).answer).toEqual(["search.default.svc.cluster.local CNAME search.example.org"]);
  });

  it("answers FORMERR, NOTIMP, BADVERS, or drops, as the packet deserves", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    const formerr = Buffer.from(queryBytes("a.cluster.local", TYPE.A));
    formerr.writeUInt16BE(0xffff, 4);
    expect(render(sync(handle(formerr, "udp"))).rcode).toBe(RCODE.FORMERR);
    const notimp = Buffer.from(queryBytes("a.cluster.local", TYPE.A));
    notimp[2] = (notimp[2] ?? 0) | (4 << 3);
    expect(render(sync(handle(notimp, "udp"))).rcode).toBe(RCODE.NOTIMP);
    const badvers = queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1232, ednsVersion: 1 });
    expect(render(sync(handle(badvers, "udp")))).toMatchObject({ rcode: 16, answer: [] });
    expect(handle(Buffer.from([1, 2, 3]), "udp")).toBeNull();
  });

  it("refuses classes other than IN and ANY for cluster names", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    const out = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { qclass: 3 }), "udp"));
    expect(render(out).rcode).toBe(RCODE.REFUSED);
  });

  it("sets TC over UDP for an answer over 512 octets without EDNS, and sends it whole with EDNS or TCP", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "big", headless: true }));
    const endpoints = Array.from({ length: 60 }, (_, i) => endpoint(`10.1.0.${i + 1}`));
    store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints }));
    store.markSynced();
    const handle = createQueryHandler({ store });
    const name = "big.default.svc.cluster.local";
    expect(render(sync(handle(queryBytes(name, TYPE.A), "udp")))).toMatchObject({ flags: "qr aa tc rd", answer: [] });
    expect(render(sync(handle(queryBytes(name, TYPE.A, { udpSize: 4096 }), "udp"))).answer).toHaveLength(60);
    expect(render(sync(handle(queryBytes(name, TYPE.A), "tcp"))).answer).toHaveLength(60);
  });

  it("caps every UDP answer at 1232 octets, even for a client offering more, with TC and no records past it", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "big", headless: true }));
    const endpoints = Array.from({ length: 200 }, (_, i) => endpoint(`10.1.${i >> 8}.${i & 0xff}`));
    store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints }));
    store.markSynced();
    const handle = createQueryHandler({ store });
    const name = "big.default.svc.cluster.local";
    // The whole answer over TCP first, so that the UDP answers below also meet it in the answer cache.
    expect(render(sync(handle(queryBytes(name, TYPE.A), "tcp"))).answer).toHaveLength(200);
    for (let round = 0; round < 2; round++) {
      const plain = sync(handle(queryBytes(name, TYPE.A), "udp"));
      expect(plain.length).toBeLessThanOrEqual(512);
      expect(render(plain)).toMatchObject({ flags: "qr aa tc rd", answer: [], udpSize: null });
      const large = sync(handle(queryBytes(name, TYPE.A, { udpSize: 65535 }), "udp"));
      expect(large.length).toBeLessThanOrEqual(1232);
      expect(render(large)).toMatchObject({ flags: "qr aa tc rd", answer: [], additional: [], udpSize: 1232 });
    }
  });

  it("answers ANY over UDP with one record set of a cluster name, and over TCP with all of them", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    const name = "nginx.default.svc.cluster.local";
    expect(render(sync(handle(queryBytes(name, TYPE.ANY), "udp"))).answer).toEqual([`${name} A 10.96.0.10`]);
    expect(render(sync(handle(queryBytes(name, TYPE.ANY), "tcp"))).answer).toEqual([
      `${name} A 10.96.0.10`,
      `${name} SRV 0 50 80 ${name}`,
      `${name} SRV 0 50 443 ${name}`,
    ]);
    expect(render(sync(handle(queryBytes(name, TYPE.ANY), "udp"))).answer).toEqual([`${name} A 10.96.0.10`]);
  });

  it("answers ANY over UDP for a name outside the zone with RFC 8482's HINFO and asks no upstream; over TCP it forwards", async () => {
    const requests: string[] = [];
    const handle = createQueryHandler({
      store: clusterStore(),
      forward: (request) => {
        requests.push(`${request.name} ${request.qtype}`);
        return upstream(request);
      },
    });
    const out = sync(handle(queryBytes("example.org", TYPE.ANY, { id: 8 }), "udp"));
    expect(render(out)).toMatchObject({ id: 8, rcode: RCODE.NOERROR, flags: "qr rd ra", answer: ["example.org HINFO"] });
    const hinfo = Packet.parse(out).answers[0];
    expect(hinfo?.ttl).toBe(8482);
    // HINFO data: two character-strings.
    expect(out.subarray(out.length - 27).toString("latin1")).toBe("\rANY obsoleted\fSee RFC 8482");
    expect(requests).toEqual([]);
    const reverse = sync(handle(queryBytes("1.1.168.192.in-addr.arpa", TYPE.ANY), "udp"));
    expect(render(reverse).answer).toEqual(["1.1.168.192.in-addr.arpa HINFO"]);
    expect(requests).toEqual([]);
    await handle(queryBytes("example.org", TYPE.ANY), "tcp");
    expect(requests).toEqual(["example.org 255"]);
  });

  it("still refuses ANY for a name outside the zone when it has no upstream", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    expect(render(sync(handle(queryBytes("example.org", TYPE.ANY), "udp"))).rcode).toBe(RCODE.REFUSED);
  });

  it("answers SERVFAIL for unknown cluster names before the first sync", () => {
    const store = new RecordStore();
    const handle = createQueryHandler({ store });
    expect(render(sync(handle(queryBytes("nope.default.svc.cluster.local", TYPE.A), "udp"))).rcode).toBe(
      RCODE.SERVFAIL,
    );
  });
});

describe("query handler under hostile input", () => {
  it("survives tens of thousands of malformed packets, then answers a good query at once", () => {
    const handle = createQueryHandler({ store: clusterStore() });
    const good = queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1232 });
    const samples: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) samples.push(randomBytes(i % 64));
    for (let i = 0; i < 10_000; i++) {
      // A good query with a few bytes flipped: lengths, counts and pointers go wrong.
      const bent = Buffer.from(good);
      for (let j = 0; j < 1 + (i % 4); j++) bent[(i * 7 + j * 13) % bent.length] = (i * 31 + j) & 0xff;
      samples.push(i % 3 === 0 ? bent.subarray(0, i % bent.length) : bent);
    }
    for (let i = 0; i < 2_000; i++) {
      // Header-only packets claiming 0xFFFF records, and a pointer loop in the question.
      const loop = Buffer.from([0, i & 0xff, 0x01, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
      samples.push(loop, Buffer.concat([loop.subarray(0, 4), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])]));
    }
    for (const sample of samples) {
      const out = handle(sample, "udp");
      expect(out === null || out instanceof Buffer).toBe(true);
      if (out instanceof Buffer) {
        expect(out.length).toBeGreaterThanOrEqual(12);
        expect(out.readUInt16BE(0)).toBe(sample.readUInt16BE(0));
        expect((out[2] ?? 0) & 0x80).toBe(0x80);
        expect(Packet.parse(out).errors).toEqual([]);
      }
    }
    const out = sync(handle(good, "udp"));
    expect(render(out).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
    // CPU-bound: on a loaded machine this takes long, which is no failure of the handler.
  }, 60_000);
});
