import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { cacheTtl, ForwardCache } from "./forward-cache.ts";
import { walkMessage } from "./message-walk.ts";
import { render } from "./testing/messages.ts";

function response(fields: { rcode?: number; tc?: boolean; answers?: number[]; soa?: { ttl: number; minimum: number } }): Buffer {
  const packet = new Packet();
  packet.header.qr = 1;
  packet.header.rcode = fields.rcode ?? 0;
  packet.header.tc = fields.tc === true ? 1 : 0;
  packet.questions.push(new Packet.Question("example.org", Packet.TYPE.A, Packet.CLASS.IN));
  for (const [i, ttl] of (fields.answers ?? []).entries()) {
    packet.answers.push(new Packet.Resource({ name: "example.org", type: 1, class: 1, ttl, address: `192.0.2.${i + 1}` }));
  }
  if (fields.soa !== undefined) {
    packet.authorities.push(
      new Packet.Resource({
        name: "org",
        type: 6,
        class: 1,
        ttl: fields.soa.ttl,
        primary: "a0.org.afilias-nst.info",
        admin: "hostmaster.donuts.email",
        serial: 1,
        refresh: 7200,
        retry: 900,
        expiration: 1209600,
        minimum: fields.soa.minimum,
      }),
    );
  }
  packet.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: 1232 }));
  return packet.toBuffer();
}

describe("cacheTtl", () => {
  it("keeps a success for its smallest TTL, at most 30 s", () => {
    expect(cacheTtl(response({ answers: [300, 120] }), 30, 5)).toBe(30);
    expect(cacheTtl(response({ answers: [300, 12] }), 30, 5)).toBe(12);
  });

  it("keeps a denial for the SOA's TTL or minimum, at most 5 s", () => {
    expect(cacheTtl(response({ rcode: 3, soa: { ttl: 900, minimum: 3600 } }), 30, 5)).toBe(5);
    expect(cacheTtl(response({ rcode: 3, soa: { ttl: 900, minimum: 2 } }), 30, 5)).toBe(2);
    expect(cacheTtl(response({ rcode: 0, soa: { ttl: 3, minimum: 3600 } }), 30, 5)).toBe(3);
  });

  it("does not keep denials without an SOA, failures, truncated answers, or TTL 0", () => {
    expect(cacheTtl(response({ rcode: 3 }), 30, 5)).toBeNull();
    expect(cacheTtl(response({ rcode: 2 }), 30, 5)).toBeNull();
    expect(cacheTtl(response({ rcode: 5, soa: { ttl: 5, minimum: 5 } }), 30, 5)).toBeNull();
    expect(cacheTtl(response({ tc: true, answers: [60] }), 30, 5)).toBeNull();
    expect(cacheTtl(response({ answers: [0] }), 30, 5)).toBeNull();
    expect(cacheTtl(Buffer.from([1, 2, 3]), 30, 5)).toBeNull();
  });
});

describe("ForwardCache", () => {
  it("ages TTLs on the way out and forgets an entry when its time is up", () => {
    let now = 1_000_000;
    const cache = new ForwardCache({ now: () => now });
    cache.set("example.org|1|1", response({ answers: [300, 20] }));
    cache.set("example.net|1|1", response({ answers: [300] }));
    now += 7_500;
    const hit = cache.get("example.org|1|1");
    expect(hit && render(hit, true).answer).toEqual(["example.org 13 A 192.0.2.1", "example.org 13 A 192.0.2.2"]);
    const capped = cache.get("example.net|1|1");
    expect(capped && render(capped, true).answer).toEqual(["example.org 23 A 192.0.2.1"]);
    now += 12_500;
    expect(cache.get("example.org|1|1")).toBeNull();
    expect([cache.hits, cache.misses, cache.size]).toEqual([2, 1, 1]);
  });

  it("hands out copies, so a caller's edits do not reach the cache", () => {
    const cache = new ForwardCache();
    cache.set("k", response({ answers: [60] }));
    const first = cache.get("k");
    first?.writeUInt16BE(0xdead, 0);
    expect(cache.get("k")?.readUInt16BE(0)).not.toBe(0xdead);
  });

  it("evicts the least recently used entry when full", () => {
    const cache = new ForwardCache({ maxEntries: 2 });
    cache.set("a", response({ answers: [60] }));
    cache.set("b", response({ answers: [60] }));
    cache.get("a");
    cache.set("c", response({ answers: [60] }));
    expect(cache.get("b")).toBeNull();
    expect(cache.get("a")).not.toBeNull();
    expect(cache.get("c")).not.toBeNull();
  });
});

describe("walkMessage", () => {
  it("finds each record and its TTL", () => {
    const walked = walkMessage(response({ answers: [300], soa: { ttl: 900, minimum: 5 } }));
    expect(walked?.records.map((r) => [r.section, r.type])).toEqual([
      [0, 1],
      [1, 6],
      [2, 41],
    ]);
  });

  it("gives null for messages that run off their end", () => {
    const full = response({ answers: [300] });
    for (let cut = 0; cut < full.length; cut++) expect(walkMessage(full.subarray(0, cut))).toBeNull();
  });
});
