import { describe, expect, it } from "vitest";
import { Backoff, isConnectionFailure } from "./backoff.ts";

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

  it("caps a delay when asked, and a long capped streak does not leave the next uncapped delay long", () => {
    const b = new Backoff({ initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0 });
    expect([b.next(2000), b.next(2000), b.next(2000), b.next(2000), b.next(), b.next()]).toEqual([800, 1600, 2000, 2000, 3200, 6400]);
    expect(b.attempt).toBe(6);
  });
});

describe("isConnectionFailure", () => {
  it("finds a refused or dropped connection in the cause chain of fetch's error", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    expect(isConnectionFailure(new TypeError("fetch failed", { cause: refused }))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }))).toBe(true);
  });

  it("leaves answers from the server and other errors to the normal backoff", () => {
    expect(isConnectionFailure(new Error("HTTP 500"))).toBe(false);
    expect(isConnectionFailure(Object.assign(new Error("x"), { code: "SP_API_ERROR" }))).toBe(false);
    expect(isConnectionFailure("ECONNREFUSED")).toBe(false);
  });
});
