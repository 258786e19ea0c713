import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { RoundRobin } from "./round-robin.ts";
import { render } from "./testing/messages.ts";

function response(records: { name: string; type: number; value: string }[]): Buffer {
  const p = new Packet();
  p.header.qr = 1;
  p.questions.push(new Packet.Question("web.example", Packet.TYPE.A, 1));
  for (const r of records) {
    const data = r.type === Packet.TYPE.CNAME ? { domain: r.value } : { address: r.value };
    p.answers.push(new Packet.Resource({ name: r.name, type: r.type, class: 1, ttl: 30, ...data }));
  }
  return p.toBuffer();
}

describe("round robin", () => {
  it("rotates the addresses of one owner at each answer, leaving CNAMEs and other owners in place", () => {
    const rr = new RoundRobin();
    const given = response([
      { name: "web.example", type: Packet.TYPE.CNAME, value: "lb.example" },
      { name: "lb.example", type: Packet.TYPE.A, value: "10.0.0.1" },
      { name: "lb.example", type: Packet.TYPE.A, value: "10.0.0.2" },
      { name: "lb.example", type: Packet.TYPE.A, value: "10.0.0.3" },
    ]);
    const before = Buffer.from(given);
    const orders = [0, 1, 2, 3].map(() => render(rr.rotate(given)).answer);
    expect(orders.map((a) => a[0])).toEqual(["web.example CNAME lb.example", "web.example CNAME lb.example", "web.example CNAME lb.example", "web.example CNAME lb.example"]);
    expect(orders.map((a) => a.slice(1).map((l) => l.split(" ")[2]))).toEqual([
      ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
      ["10.0.0.2", "10.0.0.3", "10.0.0.1"],
      ["10.0.0.3", "10.0.0.1", "10.0.0.2"],
      ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    ]);
    // The bytes given (perhaps a cache's) are never changed.
    expect(given.equals(before)).toBe(true);
  });

  it("rotates AAAA too, and leaves single records and unreadable messages alone", () => {
    const rr = new RoundRobin();
    rr.rotate(Buffer.alloc(0));
    const six = response([
      { name: "web.example", type: Packet.TYPE.AAAA, value: "fd00::1" },
      { name: "web.example", type: Packet.TYPE.AAAA, value: "fd00::2" },
    ]);
    expect(render(rr.rotate(six)).answer).toEqual(["web.example AAAA fd00::1", "web.example AAAA fd00::2"]);
    expect(render(rr.rotate(six)).answer).toEqual(["web.example AAAA fd00::2", "web.example AAAA fd00::1"]);
    const one = response([{ name: "web.example", type: Packet.TYPE.A, value: "10.0.0.1" }]);
    expect(rr.rotate(one)).toBe(one);
    const garbage = Buffer.from([0, 1, 0x80, 0, 0, 1, 0, 5, 0, 0, 0, 0, 9]);
    expect(rr.rotate(garbage)).toBe(garbage);
  });
});
