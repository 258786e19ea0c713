import { describe, expect, it } from "vitest";
import { ConcurrencyLimit } from "./concurrency-limit.ts";

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("ConcurrencyLimit", () => {
  it("runs at most `limit` tasks at once, the rest in order as slots free up", async () => {
    const limit = new ConcurrencyLimit(2, 10);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) => limit.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([limit.running, limit.waiting]).toEqual([2, 2]);
    gates[1]?.open();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([limit.running, limit.waiting]).toEqual([0, 0]);
  });

  it("refuses a task when the waiting line is full, and frees the slot of a task that failed", async () => {
    const limit = new ConcurrencyLimit(1, 1);
    const g = gate();
    const first = limit.run(() => g.promise);
    const second = limit.run(() => Promise.reject(new Error("boom")));
    await expect(limit.run(() => Promise.resolve())).rejects.toThrow("1 exchanges already wait for one of 1 slots");
    g.open();
    await first;
    await expect(second).rejects.toThrow("boom");
    expect([limit.running, limit.waiting]).toEqual([0, 0]);
    expect(await limit.run(() => Promise.resolve("again"))).toBe("again");
  });
});
