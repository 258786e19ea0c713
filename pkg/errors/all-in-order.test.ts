import { describe, expect, it } from "vitest";
import { allInOrder } from "./all-in-order.ts";

describe("allInOrder", () => {
  it("hands back every value, in order", async () => {
    expect(await allInOrder([Promise.resolve(1), Promise.resolve("two")])).toEqual([1, "two"]);
  });

  it("waits for every call, then throws the first failure in argument order, not in time", async () => {
    let lateSettled = false;
    const early = Promise.reject(new Error("second, but first in time"));
    const late = new Promise<never>((_, reject) =>
      setTimeout(() => {
        lateSettled = true;
        reject(new Error("first in order"));
      }, 5),
    );
    const running = new Promise<string>((resolve) => setTimeout(() => resolve("done"), 10));
    await expect(allInOrder([late, early, running])).rejects.toThrow("first in order");
    expect(lateSettled).toBe(true);
    expect(await running).toBe("done");
  });
});
