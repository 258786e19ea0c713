import { describe, expect, it } from "vitest";
import { PodCIDRAllocator } from "./pod-cidr-allocator.ts";

describe("PodCIDRAllocator", () => {
  it("hands out addresses from .2, never reusing one that is still held", () => {
    const a = new PodCIDRAllocator("10.244.1.0/24");
    expect([a.allocate(), a.allocate()]).toEqual(["10.244.1.2", "10.244.1.3"]);
  });

  it("reuses a released address only after the rest, and fails when full", () => {
    const a = new PodCIDRAllocator("10.244.1.0/29");
    const got = [a.allocate(), a.allocate(), a.allocate(), a.allocate(), a.allocate()];
    expect(got).toEqual(["10.244.1.2", "10.244.1.3", "10.244.1.4", "10.244.1.5", "10.244.1.6"]);
    expect(() => a.allocate()).toThrow(/no free pod IP/);
    a.release("10.244.1.3");
    expect(a.allocate()).toBe("10.244.1.3");
  });

  it("refuses what is not an IPv4 CIDR", () => {
    expect(() => new PodCIDRAllocator("fd00::/64")).toThrow(/local cluster: podCIDR/);
  });
});
