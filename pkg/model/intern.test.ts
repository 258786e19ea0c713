import { describe, expect, it } from "vitest";
import { createInterner } from "./intern.ts";

describe("createInterner", () => {
  it("returns a string equal to the one given", () => {
    const interner = createInterner();
    expect(interner.intern(["node", "7"].join("-"))).toBe("node-7");
    expect(interner.intern(["node", "7"].join("-"))).toBe("node-7");
    expect(interner.size).toBe(1);
  });

  it("holds at most two generations of its capacity", () => {
    const interner = createInterner(100);
    for (let i = 0; i < 10_000; i++) interner.intern(`zone-${i}`);
    expect(interner.size).toBeLessThanOrEqual(200);
  });

  it("keeps strings in use across generations", () => {
    const interner = createInterner(10);
    for (let i = 0; i < 1_000; i++) {
      interner.intern("node-a");
      interner.intern(`churn-${i}`);
    }
    expect(interner.size).toBeLessThanOrEqual(20);
    expect(interner.intern("node-a")).toBe("node-a");
  });

  it("passes strings longer than a DNS name through without holding them", () => {
    const interner = createInterner();
    interner.intern("x".repeat(254));
    expect(interner.size).toBe(0);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => createInterner(0)).toThrow(RangeError);
  });
});
