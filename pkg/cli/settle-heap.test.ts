import { describe, expect, it } from "vitest";
import { settleHeap } from "./settle-heap.ts";

describe("settleHeap", () => {
  it("collects the garbage of a load, giving back heap the process no longer uses", () => {
    const load = () => Array.from({ length: 200_000 }, (_, i) => ({ i, name: `name-${i}` })).length;
    expect(load()).toBe(200_000);
    const before = process.memoryUsage().heapUsed;
    const ms = settleHeap();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(process.memoryUsage().heapUsed).toBeLessThan(before);
  });
});
