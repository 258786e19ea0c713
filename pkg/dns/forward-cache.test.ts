import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { cacheTtl, ForwardCache, forwardCacheKey, servfailFor } from "./forward-cache.ts";
import { sameName, walkMessage } from "./message-walk.ts";
import type { ForwardRequest } from "./query-handler.ts";
import { render } from "./testing/messages.ts";

interface Fields {
  rcode?: number;
  tc?: boolean;
  name?: string;
  /** CNAMEs before the answers: owner then target, the first owned by the question's name. */
  chain?: string[];
  answers?: number[];
  soa?: { ttl: number; minimum: number };
}

function response(fields: Fields): Buffer {
  const packet = new Packet();
  packet.header.qr = 1;
  packet.header.rcode = fields.rcode ?? 0;
  packet.header.tc = fields.tc === true ? 1 : 0;
  const name = fields.name ?? "example.org";
  packet.questions.push(new Packet.Question(name, Packet.TYPE.A, Packet.CLASS.IN));
  let owner = name;
  for (const target of fields.chain ?? []) {
    packet.answers.push(new Packet.Resource({ name: owner, type: Packet.TYPE.CNAME, class: 1, ttl: 60, domain: target }));
    owner = target;
  }
  for (const [i, ttl] of (fields.answers ?? []).entries()) {
    packet.answers.push(new Packet.Resource({ name: owner, type: 1, class: 1, ttl, address: `192.0.2.${(i % 250) + 1}` }));
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

/** A response with `count` A records for example.org, written directly: dns2 is slow at thousands. */
function bigResponse(count: number): Buffer {
  const head = response({}).subarray(0, 29);
  const out = Buffer.alloc(29 + count * 16, head);
  out.writeUInt16BE(count, 6);
  out.writeUInt16BE(0, 10);
  for (let i = 0; i < count; i++) {
    const at = 29 + i * 16;
    out.writeUInt16BE(0xc00c, at);
    out.writeUInt16BE(1, at + 2);
    out.writeUInt16BE(1, at + 4);
    out.writeUInt32BE(60, at + 6);
    out.writeUInt16BE(4, at + 10);
    out.writeUInt32BE(0xc0000200 + (i & 0xff), at + 12);
  }
  return out;
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

  it("keeps SERVFAIL for the servfail TTL, and never without one (RFC 9520)", () => {
    expect(cacheTtl(response({ rcode: 2 }), 30, 5, 5)).toBe(5);
    expect(cacheTtl(response({ rcode: 2 }), 30, 5, 0)).toBeNull();
    expect(cacheTtl(servfailFor(Buffer.from(response({}).subarray(12, 29))), 30, 5, 3)).toBe(3);
  });

  it("keeps a CNAME chain only when it ends in the asked type, or in a denial with an SOA", () => {
    expect(cacheTtl(response({ chain: ["a.example.net", "b.example.com"], answers: [300] }), 30, 5)).toBe(30);
    expect(cacheTtl(response({ chain: ["a.example.net"] }), 30, 5)).toBeNull();
    expect(cacheTtl(response({ chain: ["a.example.net", "b.example.com"] }), 30, 5)).toBeNull();
    // NODATA and NXDOMAIN for the chain's end are complete answers, kept as denials.
    expect(cacheTtl(response({ chain: ["a.example.net"], soa: { ttl: 60, minimum: 2 } }), 30, 5)).toBe(2);
    expect(cacheTtl(response({ rcode: 3, chain: ["a.example.net"], soa: { ttl: 60, minimum: 60 } }), 30, 5)).toBe(5);
  });

  it("does not keep a CNAME loop, or addresses for a name that was not asked", () => {
    expect(cacheTtl(response({ chain: ["a.example.net", "example.org"] }), 30, 5)).toBeNull();
    const elsewhere = new Packet();
    elsewhere.header.qr = 1;
    elsewhere.questions.push(new Packet.Question("example.org", Packet.TYPE.A, Packet.CLASS.IN));
    elsewhere.answers.push(new Packet.Resource({ name: "evil.example", type: 1, class: 1, ttl: 60, address: "192.0.2.66" }));
    expect(cacheTtl(elsewhere.toBuffer(), 30, 5)).toBeNull();
  });
});

describe("sameName", () => {
  // example.org at 12 in the question; "www" + pointer to it at 29; "WWW.Example.ORG" spelled
  // out at 35; at 52 a pointer to itself.
  const message = Buffer.concat([
    Buffer.alloc(12),
    Buffer.from("\x07example\x03org\x00\x00\x01\x00\x01", "latin1"),
    Buffer.from("\x03www\xc0\x0c", "latin1"),
    Buffer.from("\x03WWW\x07Example\x03ORG\x00", "latin1"),
    Buffer.from("\xc0\x34", "latin1"),
  ]);

  it("compares names through compression pointers, ignoring case", () => {
    expect(sameName(message, 29, 35)).toBe(true);
    expect(sameName(message, 12, 39)).toBe(true);
    expect(sameName(message, 12, 35)).toBe(false);
  });

  it("ends a pointer loop as a mismatch", () => {
    expect(sameName(message, 52, 12)).toBe(false);
    expect(sameName(message, 52, 52)).toBe(false);
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

  it("stays within its bytes however large the answers, counting what it evicts", () => {
    const cache = new ForwardCache({ maxBytes: 4 * 1024 * 1024 });
    const big = bigResponse(3000);
    expect(big.length).toBeGreaterThan(45_000);
    for (let i = 0; i < 200; i++) {
      cache.set(`n${i}`, big);
      expect(cache.bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    }
    expect(cache.size).toBeGreaterThan(40);
    expect(cache.evictions("success")).toBe(200 - cache.size);
    expect(cache.evictions("denial")).toBe(0);
    expect(cache.get("n199")).not.toBeNull();
    expect(cache.get("n0")).toBeNull();
  });

  it("does not keep a response larger than a sixteenth of its capacity", () => {
    const cache = new ForwardCache({ maxBytes: 1024 * 1024 });
    cache.set("small", response({ answers: [60] }));
    cache.set("big", bigResponse(4000));
    expect(cache.get("big")).toBeNull();
    expect(cache.get("small")).not.toBeNull();
    expect(cache.evictions("success")).toBe(0);
  });

  it("gives back its bytes as entries expire or are replaced", () => {
    let now = 0;
    const cache = new ForwardCache({ now: () => now });
    cache.set("a", response({ answers: [60] }));
    const one = cache.bytes;
    cache.set("a", response({ answers: [60] }));
    expect(cache.bytes).toBe(one);
    now += 31_000;
    expect(cache.get("a")).toBeNull();
    expect([cache.bytes, cache.size]).toEqual([0, 0]);
  });

  it("answers a failed question SERVFAIL for the servfail TTL, then asks again", () => {
    let now = 0;
    const cache = new ForwardCache({ servfailTtl: 5, now: () => now });
    const question = response({}).subarray(12, 29);
    cache.setFailure("example.org|1|1", question);
    now += 4_900;
    const hit = cache.get("example.org|1|1");
    expect(hit && render(hit)).toMatchObject({ rcode: 2, question: "example.org A", answer: [] });
    expect(cache.denialHits).toBe(1);
    now += 200;
    expect(cache.get("example.org|1|1")).toBeNull();
    const off = new ForwardCache({ servfailTtl: 0 });
    off.setFailure("example.org|1|1", question);
    expect(off.size).toBe(0);
  });

  it("keys answers by the DO and CD bits as well as the question", () => {
    const request = (dnssecOk: boolean, cd: boolean): ForwardRequest => ({
      message: Buffer.alloc(0),
      question: Buffer.alloc(0),
      name: "example.org",
      qtype: 1,
      qclass: 1,
      dnssecOk,
      cd,
    });
    const keys = new Set([request(false, false), request(true, false), request(false, true), request(true, true)].map(forwardCacheKey));
    expect(keys.size).toBe(4);
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

describe("ForwardCache policy (CoreDNS cache's success, denial, prefetch, serve_stale)", () => {
  const nxdomain = (ttl: number) => response({ rcode: 3, soa: { ttl, minimum: ttl } });

  it("keeps each type within its capacity, evicting that type's least recently used", () => {
    const cache = new ForwardCache({ success: { capacity: 2, maxTtl: 30, minTtl: 0 }, denial: { capacity: 1, maxTtl: 5, minTtl: 0 } });
    cache.set("s1", response({ answers: [60] }));
    cache.set("s2", response({ answers: [60] }));
    cache.set("d1", nxdomain(60));
    cache.get("s1");
    cache.set("s3", response({ answers: [60] }));
    cache.set("d2", nxdomain(60));
    expect([cache.count("success"), cache.count("denial")]).toEqual([2, 1]);
    expect([cache.get("s1") !== null, cache.get("s2"), cache.get("s3") !== null, cache.get("d1"), cache.get("d2") !== null]).toEqual([true, null, true, null, true]);
    expect([cache.evictions("success"), cache.evictions("denial")]).toEqual([1, 1]);
  });

  it("clamps a response's TTL to its type's range: maxTTL caps it, minTTL keeps a short one longer", () => {
    let now = 0;
    const cache = new ForwardCache({ now: () => now, success: { capacity: 10, maxTtl: 300, minTtl: 20 }, denial: { capacity: 10, maxTtl: 60, minTtl: 10 } });
    cache.set("short", response({ answers: [2] }));
    cache.set("long", response({ answers: [3600] }));
    cache.set("denied", nxdomain(1));
    now = 9_000;
    expect([cache.get("short") !== null, cache.get("denied") !== null]).toEqual([true, true]);
    now = 15_000;
    expect([cache.get("short") !== null, cache.get("denied")]).toEqual([true, null]);
    now = 299_000;
    expect([cache.get("short"), cache.get("long") !== null]).toEqual([null, true]);
    now = 300_000;
    expect(cache.get("long")).toBeNull();
  });

  it("marks a popular entry for a refresh once the share of its TTL is left, once", () => {
    let now = 0;
    const cache = new ForwardCache({ now: () => now, success: { capacity: 10, maxTtl: 100, minTtl: 0 }, prefetch: { amount: 3, durationMs: 10_000, percentage: 10 } });
    cache.set("k", response({ answers: [100] }));
    const states = (): string[] => [cache.lookup("k")?.state ?? "miss"];
    now = 50_000;
    expect([...states(), ...states(), ...states()]).toEqual(["fresh", "fresh", "fresh"]);
    now = 91_000;
    // Popular (3 hits within 10 s of each other), but the last one 41 s before: the count starts again.
    expect([...states(), ...states()]).toEqual(["fresh", "fresh"]);
    expect(states()).toEqual(["prefetch"]);
    expect(states()).toEqual(["fresh"]);
  });

  it("serves an expired entry at once with a 30 s TTL and asks for a refresh (immediate), within its duration only", () => {
    let now = 0;
    const cache = new ForwardCache({ now: () => now, serveStale: { durationMs: 60_000, verify: false } });
    cache.set("k", response({ answers: [10] }));
    now = 15_000;
    const hit = cache.lookup("k");
    expect(hit?.state).toBe("stale");
    expect(hit && render(hit.response, true).answer).toEqual(["example.org 30 A 192.0.2.1"]);
    // The refresh is in flight (or failed): served stale without another, for RFC 8767's 30 s.
    expect(cache.lookup("k")?.state).toBe("fresh");
    now = 46_000;
    expect(cache.lookup("k")?.state).toBe("stale");
    expect(cache.servedStale).toBe(3);
    now = 70_001;
    expect(cache.lookup("k")).toBeNull();
    expect(cache.size).toBe(0);
  });

  it("verify: asks first; the stale entry answers only when the upstreams fail, and a failure does not replace it", () => {
    let now = 0;
    const cache = new ForwardCache({ now: () => now, servfailTtl: 5, serveStale: { durationMs: 60_000, verify: true } });
    cache.set("k", response({ answers: [10] }));
    now = 15_000;
    expect(cache.lookup("k")).toBeNull();
    cache.setFailure("k", response({}).subarray(12, 29));
    const stale = cache.stale("k");
    expect(stale && render(stale, true).answer).toEqual(["example.org 30 A 192.0.2.1"]);
    // Within the failure recheck timer, the stale entry answers without asking.
    expect(cache.lookup("k")?.state).toBe("fresh");
    expect(cache.servedStale).toBe(2);
    // A failure for a name with nothing to serve is kept, as before.
    cache.setFailure("other", response({}).subarray(12, 29));
    expect(cache.get("other")?.readUInt16BE(2)).toBe(0x8182);
  });

  it("never serves a cached failure stale", () => {
    let now = 0;
    const cache = new ForwardCache({ now: () => now, servfailTtl: 5, serveStale: { durationMs: 60_000, verify: false } });
    cache.setFailure("k", response({}).subarray(12, 29));
    now = 6_000;
    expect([cache.lookup("k"), cache.stale("k")]).toEqual([null, null]);
  });
});
