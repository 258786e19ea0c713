import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("Backoff", () => {
  it("doubles from the initial delay and stops at the cap", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("stretches each delay by the jitter factor, never shortens it", () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, () => 0);
    const high = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, () => 0.999);
    expect(low.next()).toBe(100);
    expect(high.next()).toBe(150);
  });

  it("starts over after a reset", () => {
    const b = new Backoff({ initialMs: 10, maxMs: 1000, factor: 3, jitter: 0 });
    b.next();
    b.next();
    expect(b.attempt).toBe(2);
    b.reset();
    expect(b.next()).toBe(10);
  });
});
