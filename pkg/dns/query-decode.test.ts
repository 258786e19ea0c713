import { describe, expect, it } from "vitest";
import { decodeQuery } from "./query-decode.ts";
import { TYPE } from "./records.ts";
import { queryBytes } from "./testing/messages.ts";

/** A raw message: header fields, then the given body bytes. */
function raw(counts: [number, number, number, number], body: number[], flags = 0x0100): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0xbeef, 0);
  header.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => header.writeUInt16BE(c, 4 + i * 2));
  return Buffer.concat([header, Buffer.from(body)]);
}

const qname = (...labels: string[]) => [...labels.flatMap((l) => [l.length, ...Buffer.from(l, "latin1")]), 0];
const question = (...labels: string[]) => [...qname(...labels), 0, 1, 0, 1];
const opt = (udpSize: number, ttl = 0, name = [0]) => [
  ...name,
  0,
  41,
  udpSize >> 8,
  udpSize & 0xff,
  (ttl >>> 24) & 0xff,
  (ttl >>> 16) & 0xff,
  (ttl >>> 8) & 0xff,
  ttl & 0xff,
  0,
  0,
];

describe("decodeQuery", () => {
  it("reads header and question, the name in lower case", () => {
    const decoded = decodeQuery(queryBytes("NGINX.Default.svc.cluster.local", TYPE.SRV, { id: 77 }));
    expect(decoded).toEqual({
      ok: true,
      query: {
        id: 77,
        opcode: 0,
        rd: true,
        cd: false,
        name: "nginx.default.svc.cluster.local",
        nameHash: expect.any(Number) as unknown,
        qtype: TYPE.SRV,
        qclass: 1,
        nameEnd: 12 + 33,
        questionEnd: 12 + 33 + 4,
        edns: null,
      },
    });
  });

  it("hashes the name as it reads it: one hash for a name in any case, another for another name", () => {
    const hash = (name: string) => {
      const decoded = decodeQuery(queryBytes(name, TYPE.A));
      if (!decoded.ok) throw new Error("not a query");
      return decoded.query.nameHash;
    };
    const names = ["a", "b", "ab", "ba", "a.b", "a-b", "nginx.default.svc.cluster.local", "nginx.default.svc.cluster.loca", ""];
    const hashes = names.map(hash);
    expect(new Set(hashes).size).toBe(names.length);
    for (const h of hashes) expect(h >>> 0).toBe(h);
    expect(hash("NGINX.Default.svc.cluster.local")).toBe(hash("nginx.default.svc.cluster.local"));
  });

  it("reads the OPT record: UDP size, version and DO bit", () => {
    const decoded = decodeQuery(raw([1, 0, 0, 1], [...question("a"), ...opt(1232, 0x00018000)]));
    expect(decoded.ok && decoded.query.edns).toEqual({ udpSize: 1232, version: 1, dnssecOk: true });
  });

  it("reads the root name as an empty string", () => {
    const decoded = decodeQuery(raw([1, 0, 0, 0], [0, 0, 2, 0, 1]));
    expect(decoded.ok && decoded.query.name).toBe("");
  });

  it("escapes a dot or backslash inside a label, so it cannot pass for a label boundary", () => {
    const decoded = decodeQuery(raw([1, 0, 0, 0], question("nginx.default", "svc", "cluster", "local")));
    expect(decoded.ok && decoded.query.name).toBe("nginx\\.default.svc.cluster.local");
  });

  it("lower-cases ASCII only", () => {
    const decoded = decodeQuery(raw([1, 0, 0, 0], question("\xc0B")));
    expect(decoded.ok && decoded.query.name).toBe("\xc0b");
  });

  it("skips a cookie or TSIG-like record before the OPT", () => {
    const other = [0xc0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 2, 1, 2];
    const decoded = decodeQuery(raw([1, 0, 0, 2], [...question("a"), ...other, ...opt(4096)]));
    expect(decoded.ok && decoded.query.edns?.udpSize).toBe(4096);
  });

  it("drops what has no header, and responses", () => {
    expect(decodeQuery(Buffer.alloc(11))).toEqual({ ok: false, action: "drop" });
    expect(decodeQuery(raw([1, 0, 0, 0], question("a"), 0x8100))).toEqual({ ok: false, action: "drop" });
  });

  it("answers NOTIMP to opcodes other than QUERY", () => {
    expect(decodeQuery(raw([1, 0, 0, 0], question("a"), 0x1000))).toMatchObject({ ok: false, action: "notimp" });
  });

  it.each([
    ["no question", raw([0, 0, 0, 0], [])],
    ["two questions", raw([2, 0, 0, 0], [...question("a"), ...question("b")])],
    ["section counts of 0xFFFF", raw([0xffff, 0xffff, 0xffff, 0xffff], question("a"))],
    ["a question cut short", raw([1, 0, 0, 0], [3, 0x61, 0x62])],
    ["a question without its type", raw([1, 0, 0, 0], [...qname("a"), 0, 1])],
    ["a compression pointer in the question", raw([1, 0, 0, 0], [0xc0, 12, 0, 1, 0, 1])],
    ["a pointer loop in the question", raw([1, 0, 0, 0], [1, 0x61, 0xc0, 12, 0, 1, 0, 1])],
    ["a reserved label type", raw([1, 0, 0, 0], [0x41, ...Array<number>(65).fill(0x61), 0, 0, 1, 0, 1])],
    ["a name over 255 octets", raw([1, 0, 0, 0], question(...Array<string>(5).fill("a".repeat(60))))],
  ])("answers FORMERR without the question to %s", (_what, message) => {
    expect(decodeQuery(message)).toMatchObject({ ok: false, action: "formerr", id: 0xbeef, questionEnd: 0 });
  });

  it.each([
    ["an OPT in the answer section", raw([1, 1, 0, 0], [...question("a"), ...opt(512)])],
    ["two OPT records", raw([1, 0, 0, 2], [...question("a"), ...opt(512), ...opt(512)])],
    ["an OPT not owned by the root", raw([1, 0, 0, 1], [...question("a"), ...opt(512, 0, [1, 0x61, 0])])],
    ["a record running past the end", raw([1, 0, 0, 1], [...question("a"), ...opt(512).slice(0, -1), 9])],
    ["a record cut short", raw([1, 0, 0, 1], [...question("a"), 0, 0, 41])],
  ])("answers FORMERR with the question to %s", (_what, message) => {
    expect(decodeQuery(message)).toMatchObject({ ok: false, action: "formerr", questionEnd: 12 + 3 + 4 });
  });

  it("accepts the longest legal name, 255 octets", () => {
    // Four 62-octet labels: 4 * 63 + 1 = 253 octets; plus a one-octet label makes 255.
    const labels = [...Array<string>(4).fill("b".repeat(62)), "c"];
    const decoded = decodeQuery(raw([1, 0, 0, 0], question(...labels)));
    expect(decoded.ok).toBe(true);
  });

  it("reads a longest name of only dots and backslashes whole, every character escaped, and the next query afresh", () => {
    const labels = [...Array<string>(4).fill(".\\".repeat(31)), "."];
    const decoded = decodeQuery(raw([1, 0, 0, 0], question(...labels)));
    expect(decoded.ok && decoded.query.name).toBe([...Array<string>(4).fill("\\.\\\\".repeat(31)), "\\."].join("."));
    const next = decodeQuery(raw([1, 0, 0, 0], question("Ab")));
    expect(next.ok && next.query.name).toBe("ab");
  });
});
