import { describe, expect, it } from "vitest";
import { decodeQuery, type Query } from "./query-decode.ts";
import { RCODE, type Reply, type RRSet, TYPE } from "./records.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { encodeBare, encodeReply, relayResponse, udpLimit } from "./wire.ts";

function decode(message: Buffer): Query {
  const decoded = decodeQuery(message);
  if (!decoded.ok) throw new Error("test query did not decode");
  return decoded.query;
}

const aSet = (owner: string | null, ...addresses: string[]): RRSet => ({
  type: TYPE.A,
  owner,
  records: addresses.map((address) => ({ type: "A" as const, ttl: 5, address })),
  additional: [],
});

const soa: RRSet = {
  type: TYPE.SOA,
  owner: "cluster.local",
  records: [
    {
      type: "SOA",
      ttl: 5,
      primary: "ns.dns.cluster.local",
      admin: "hostmaster.cluster.local",
      serial: 42,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: 5,
    },
  ],
  additional: [],
};

const reply = (fields: Partial<Reply>): Reply => ({
  rcode: RCODE.NOERROR,
  authoritative: true,
  answer: [],
  authority: [],
  additional: [],
  ...fields,
});

const options = { limit: 512, recursionAvailable: false };

describe("encodeReply", () => {
  it("echoes the question as asked and writes answers owned by it with the client's spelling", () => {
    const message = queryBytes("NGINX.Default.svc.Cluster.Local", TYPE.A, { id: 4242 });
    const out = encodeReply(message, decode(message), reply({ answer: [aSet(null, "10.96.0.10")] }), options);
    expect(out.subarray(12, 12 + 37)).toEqual(message.subarray(12, 12 + 37));
    expect(render(out, true)).toEqual({
      id: 4242,
      rcode: 0,
      flags: "qr aa rd",
      question: "NGINX.Default.svc.Cluster.Local A",
      answer: ["NGINX.Default.svc.Cluster.Local 5 A 10.96.0.10"],
      authority: [],
      additional: [],
      udpSize: null,
    });
    // The owner is a two-byte pointer to the question at offset 12.
    expect([...out.subarray(12 + 37, 12 + 39)]).toEqual([0xc0, 12]);
  });

  it("points the SOA's owner at the zone inside the question", () => {
    const message = queryBytes("nope.default.svc.cluster.local", TYPE.A);
    const out = encodeReply(message, decode(message), reply({ rcode: RCODE.NXDOMAIN, authority: [soa] }), options);
    const pointer = 12 + "nope.default.svc.".length;
    expect([...out.subarray(12 + 36, 12 + 38)]).toEqual([0xc0, pointer]);
    expect(render(out, true).authority).toEqual([
      "cluster.local 5 SOA ns.dns.cluster.local hostmaster.cluster.local 42 7200 1800 86400 5",
    ]);
    expect(render(out).rcode).toBe(RCODE.NXDOMAIN);
  });

  it("spells out an owner that is not in the question", () => {
    const message = queryBytes("_http._tcp.web.default.svc.cluster.local", TYPE.SRV);
    const glue = aSet("web-0.web.default.svc.cluster.local", "10.244.1.10");
    const out = encodeReply(message, decode(message), reply({ additional: [glue] }), options);
    expect(render(out).additional).toEqual(["web-0.web.default.svc.cluster.local A 10.244.1.10"]);
  });

  it("spells out the SOA owner when the question has a dot inside a label", () => {
    const message = Buffer.from(queryBytes("ab.svc.cluster.local", TYPE.A));
    message[13] = 0x2e; // "a.b" as one label
    const out = encodeReply(message, decode(message), reply({ rcode: RCODE.NXDOMAIN, authority: [soa] }), options);
    expect(render(out).authority[0]).toMatch(/^cluster\.local SOA/);
  });

  it("sets RA only for a server that forwards", () => {
    const message = queryBytes("a.cluster.local", TYPE.A);
    const out = encodeReply(message, decode(message), reply({}), { ...options, recursionAvailable: true });
    expect(render(out).flags).toBe("qr aa rd ra");
  });

  it("keeps RD off when the client left it off", () => {
    const message = queryBytes("a.cluster.local", TYPE.A, { rd: false });
    expect(render(encodeReply(message, decode(message), reply({}), options)).flags).toBe("qr aa");
  });

  it("echoes OPT with the client's UDP size, and none without EDNS", () => {
    const withEdns = queryBytes("a.cluster.local", TYPE.A, { udpSize: 1232 });
    expect(render(encodeReply(withEdns, decode(withEdns), reply({}), options)).udpSize).toBe(1232);
    const without = queryBytes("a.cluster.local", TYPE.A);
    expect(render(encodeReply(without, decode(without), reply({}), options)).udpSize).toBeNull();
  });

  it("sends only the question with TC set when the answer does not fit", () => {
    const addresses = Array.from({ length: 40 }, (_, i) => `10.0.0.${i + 1}`);
    const message = queryBytes("big.default.svc.cluster.local", TYPE.A, { udpSize: 512 });
    const out = encodeReply(message, decode(message), reply({ answer: [aSet(null, ...addresses)] }), options);
    expect(out.length).toBeLessThanOrEqual(512);
    expect(render(out)).toMatchObject({ flags: "qr aa tc rd", answer: [], udpSize: 512 });
    const roomy = encodeReply(message, decode(message), reply({ answer: [aSet(null, ...addresses)] }), {
      ...options,
      limit: 4096,
    });
    expect(render(roomy).answer).toHaveLength(40);
  });
});

describe("encodeBare", () => {
  it("writes an error without a question when none was read", () => {
    const header = { id: 7, opcode: 0, rd: true, cd: false, edns: null };
    const out = encodeBare(Buffer.alloc(12), header, { rcode: RCODE.FORMERR }, 0);
    expect(out.length).toBe(12);
    expect(render(out)).toMatchObject({ id: 7, rcode: RCODE.FORMERR, question: "", flags: "qr rd" });
  });

  it("carries BADVERS in the OPT record's extended rcode", () => {
    const message = queryBytes("a.cluster.local", TYPE.A, { udpSize: 1232, ednsVersion: 1 });
    const query = decode(message);
    const out = encodeBare(message, query, { rcode: RCODE.BADVERS }, query.questionEnd);
    expect((out[3] ?? 0) & 0x0f).toBe(0);
    expect(render(out).rcode).toBe(16);
  });
});

describe("relayResponse and udpLimit", () => {
  const upstreamAnswer = (name: string, options: { udpSize?: number } = {}) => {
    const asked = queryBytes(name, TYPE.A, { id: 1, ...options });
    return encodeReply(asked, decode(asked), reply({ answer: [aSet(null, "192.0.2.1")], authoritative: false }), {
      limit: 4096,
      recursionAvailable: true,
    });
  };
  const relay = (upstream: Buffer, message: Buffer, limit = 512) => {
    const out = relayResponse(upstream, message, decode(message), limit);
    if (out === null) throw new Error("relay refused the response");
    return out;
  };

  it("gives an upstream answer the client's ID and the client's spelling of the question", () => {
    const message = queryBytes("Example.ORG", TYPE.A, { id: 99 });
    expect(render(relay(upstreamAnswer("example.org"), message))).toMatchObject({
      id: 99,
      flags: "qr rd ra",
      question: "Example.ORG A",
      answer: ["Example.ORG A 192.0.2.1"],
      udpSize: null,
    });
  });

  it("swaps the upstream's OPT for the client's, or drops it for a client without EDNS", () => {
    const upstream = upstreamAnswer("example.org", { udpSize: 1232 });
    const withEdns = queryBytes("example.org", TYPE.A, { udpSize: 1000 });
    expect(render(relay(upstream, withEdns)).udpSize).toBe(1000);
    const plain = relay(upstream, queryBytes("example.org", TYPE.A));
    expect(render(plain)).toMatchObject({ udpSize: null, answer: ["example.org A 192.0.2.1"] });
    expect(plain.readUInt16BE(10)).toBe(0);
  });

  it("adds the client's OPT to an upstream answer without one", () => {
    const out = relay(upstreamAnswer("example.org"), queryBytes("example.org", TYPE.A, { udpSize: 1100 }));
    expect(render(out)).toMatchObject({ udpSize: 1100, answer: ["example.org A 192.0.2.1"] });
  });

  it("advertises at most this server's 1232 octets to a client that offers more", () => {
    const out = relay(upstreamAnswer("example.org"), queryBytes("example.org", TYPE.A, { udpSize: 4096 }));
    expect(render(out)).toMatchObject({ udpSize: 1232, answer: ["example.org A 192.0.2.1"] });
  });

  it("truncates a 60 KB upstream answer (a TCP answer from upstream) to header, question and OPT for a client offering 65535", () => {
    const message = queryBytes("example.org", TYPE.A, { id: 7, udpSize: 65535 });
    const query = decode(message);
    const big = Buffer.concat([queryBytes("example.org", TYPE.A), Buffer.alloc(60_000)]);
    const out = relayResponse(big, message, query, udpLimit(query.edns));
    if (out === null) throw new Error("relay refused the response");
    expect(out.length).toBeLessThanOrEqual(1232);
    expect(out.length).toBe(message.length);
    expect(render(out)).toMatchObject({ id: 7, flags: "qr tc rd ra", answer: [], udpSize: 1232 });
  });

  it("refuses an answer to another question", () => {
    const message = queryBytes("example.org", TYPE.A);
    expect(relayResponse(upstreamAnswer("example.net"), message, decode(message), 512)).toBeNull();
    expect(relayResponse(Buffer.from([1, 2, 3]), message, decode(message), 512)).toBeNull();
  });

  it("truncates an upstream answer that is too big for the client", () => {
    const message = queryBytes("example.org", TYPE.A, { id: 99 });
    const big = Buffer.concat([queryBytes("example.org", TYPE.A), Buffer.alloc(600)]);
    expect(render(relay(big, message))).toMatchObject({ id: 99, flags: "qr tc rd ra", answer: [] });
  });

  it("is 512 without EDNS, the client's size with it, never less than 512 nor more than 1232", () => {
    expect(udpLimit(null)).toBe(512);
    expect(udpLimit({ udpSize: 1232, version: 0, dnssecOk: false })).toBe(1232);
    expect(udpLimit({ udpSize: 1000, version: 0, dnssecOk: false })).toBe(1000);
    expect(udpLimit({ udpSize: 100, version: 0, dnssecOk: false })).toBe(512);
    expect(udpLimit({ udpSize: 4096, version: 0, dnssecOk: false })).toBe(1232);
    expect(udpLimit({ udpSize: 65535, version: 0, dnssecOk: false })).toBe(1232);
  });
});
