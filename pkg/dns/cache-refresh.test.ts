// Prefetch and serve-stale through the forwarder, against an upstream on 127.0.0.1 that counts
// its queries; the cache's clock is the test's, the sockets are real.
import { Packet } from "dns2";
import { afterEach, describe, expect, it } from "vitest";
import { ForwardCache, type ForwardCacheOptions } from "./forward-cache.ts";
import { createForwarder } from "./forwarder.ts";
import { LoopbackUpstream, type LoopbackUpstreamOptions } from "./testing/loopback-upstream.ts";
import { forwardRequest } from "./testing/messages.ts";
import { eventually } from "../../test/support/eventually.ts";

const until = (condition: () => boolean) => eventually(condition, "the upstream's queries");

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setUp(cacheOptions: ForwardCacheOptions, upstreamOptions: LoopbackUpstreamOptions, maxRefreshes?: number) {
  const clock = { now: 1_000_000 };
  const upstream = await LoopbackUpstream.start(upstreamOptions);
  closers.push(() => upstream.close());
  const cache = new ForwardCache({ ...cacheOptions, now: () => clock.now });
  const forwarder = createForwarder({ upstreams: [{ address: "127.0.0.1", port: upstream.port }], cache, timeoutMs: 200, ...(maxRefreshes === undefined ? {} : { maxRefreshes }) });
  closers.push(() => forwarder.close());
  const ask = async (name: string) => {
    const answer = Packet.parse(await forwarder.forward(forwardRequest(name))).answers[0];
    return answer === undefined ? "none" : `${answer.address} ttl ${answer.ttl}`;
  };
  return { clock, upstream, cache, ask };
}

describe("prefetch and serve_stale through the forwarder", () => {
  it("refreshes a popular entry before it expires while answering from the cache", async () => {
    const { clock, upstream, cache, ask } = await setUp({ success: { capacity: 100, maxTtl: 100, minTtl: 0 }, prefetch: { amount: 2, durationMs: 60_000, percentage: 10 } }, { ttl: 100 });
    expect(await ask("popular.example")).toBe("192.0.2.1 ttl 100");
    clock.now += 85_000;
    expect(await ask("popular.example")).toBe("192.0.2.1 ttl 15");
    upstream.options.address = "192.0.2.2";
    clock.now += 6_000;
    // Two hits within a minute, 9 s of 100 left: answered from the cache, refreshed behind it.
    expect(await ask("popular.example")).toBe("192.0.2.1 ttl 9");
    await eventually(async () => (await ask("popular.example")).startsWith("192.0.2.2"), "the prefetched answer is stored");
    expect(await ask("popular.example")).toBe("192.0.2.2 ttl 100");
    expect(upstream.asked.length).toBe(2);
    expect(cache.prefetches).toBe(1);
  });

  it("immediate: serves an expired entry at once with a 30 s TTL when the upstream is silent, and asks it behind the answer", async () => {
    const { clock, upstream, cache, ask } = await setUp({ serveStale: { durationMs: 3_600_000, verify: false } }, { ttl: 10 });
    expect(await ask("gone.example")).toBe("192.0.2.1 ttl 10");
    upstream.options.silent = true;
    clock.now += 15_000;
    expect(await ask("gone.example")).toBe("192.0.2.1 ttl 30");
    await until(() => upstream.asked.length === 2);
    expect(cache.servedStale).toBe(1);
  });

  it("verify: asks the upstream first and serves the stale entry only when it fails; a fresh answer replaces it", async () => {
    const { clock, upstream, cache, ask } = await setUp({ serveStale: { durationMs: 3_600_000, verify: true } }, { ttl: 10 });
    expect(await ask("flaky.example")).toBe("192.0.2.1 ttl 10");
    upstream.options.silent = true;
    clock.now += 15_000;
    expect(await ask("flaky.example")).toBe("192.0.2.1 ttl 30");
    expect(upstream.asked.length).toBe(2);
    // RFC 8767's failure recheck timer: for 30 s the stale entry answers without asking.
    expect(await ask("flaky.example")).toBe("192.0.2.1 ttl 30");
    expect(upstream.asked.length).toBe(2);
    upstream.options.silent = false;
    upstream.options.address = "192.0.2.7";
    clock.now += 31_000;
    expect(await ask("flaky.example")).toBe("192.0.2.7 ttl 10");
    expect(cache.servedStale).toBe(2);
  });

  it("verify: an upstream answering SERVFAIL is no answer either: the stale entry stands in", async () => {
    const { clock, upstream, cache, ask } = await setUp({ serveStale: { durationMs: 3_600_000, verify: true } }, { ttl: 10 });
    expect(await ask("broken.example")).toBe("192.0.2.1 ttl 10");
    upstream.options.rcode = 2;
    clock.now += 15_000;
    expect(await ask("broken.example")).toBe("192.0.2.1 ttl 30");
    expect([upstream.asked.length, cache.servedStale]).toEqual([2, 1]);
  });

  it("runs at most maxRefreshes refreshes at once", async () => {
    const { clock, upstream, ask } = await setUp({ serveStale: { durationMs: 3_600_000, verify: false } }, { ttl: 10 }, 1);
    for (const name of ["a.example", "b.example", "c.example"]) await ask(name);
    upstream.options.hold = true;
    clock.now += 15_000;
    for (const name of ["a.example", "b.example", "c.example"]) expect(await ask(name)).toBe("192.0.2.1 ttl 30");
    await until(() => upstream.holding === 1);
    expect(upstream.asked.length).toBe(4);
    upstream.options.hold = false;
    upstream.release();
  });
});
