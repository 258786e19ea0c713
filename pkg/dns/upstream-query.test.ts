import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { TYPE } from "./records.ts";
import { queryBytes } from "./testing/messages.ts";
import { answersQuery, asksQuestion, buildQuery, NO_DNSSEC_BITS } from "./upstream-query.ts";

/** RFC 9460 HTTPS, 0x0041: an upper-case "A" as a byte. */
const HTTPS = 65;

const question = (name: string, qtype: number = TYPE.A): Buffer => queryBytes(name, qtype).subarray(12);

function response(id: number, name: string, qtype: number, qr = true): Buffer {
  const packet = new Packet();
  packet.header.id = id;
  packet.header.qr = qr ? 1 : 0;
  packet.questions.push(new Packet.Question(name, qtype, Packet.CLASS.IN));
  return packet.toBuffer();
}

describe("buildQuery", () => {
  it("asks with RD and an OPT record, and carries the client's DO and CD", () => {
    const plain = Packet.parse(buildQuery(7, question("example.org"), 1232, NO_DNSSEC_BITS));
    expect(plain.header).toMatchObject({ id: 7, rd: 1 });
    expect(plain.additionals[0]).toMatchObject({ type: TYPE.OPT, class: 1232, ttl: 0 });
    const signed = buildQuery(7, question("example.org"), 1232, { dnssecOk: true, checkingDisabled: true });
    // dns2 does not read CD: it is bit 0x10 of the fourth byte.
    expect(signed[3]).toBe(0x10);
    expect(Packet.parse(signed).additionals[0]?.ttl).toBe(0x8000);
  });
});

describe("answersQuery", () => {
  it("takes the answer to its ID and question, the name in any case", () => {
    expect(answersQuery(response(9, "Example.ORG", TYPE.A), 9, question("example.org"))).toBe(true);
  });

  it("refuses another ID, a query, another name, and a type or class that differs only in the 0x20 bit", () => {
    const asked = question("example.org", HTTPS);
    expect(answersQuery(response(8, "example.org", HTTPS), 9, asked)).toBe(false);
    expect(answersQuery(response(9, "example.org", HTTPS, false), 9, asked)).toBe(false);
    expect(answersQuery(response(9, "example.net", HTTPS), 9, asked)).toBe(false);
    // HTTPS is 65 (0x0041); 97 (0x0061) would match it if type bytes were compared as letters.
    expect(answersQuery(response(9, "example.org", 97), 9, asked)).toBe(false);
    expect(asksQuestion(response(9, "example.org", HTTPS), asked)).toBe(true);
    expect(answersQuery(Buffer.alloc(11), 9, asked)).toBe(false);
  });
});
