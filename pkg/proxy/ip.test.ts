import { describe, expect, it } from "vitest";
import { canonicalCIDR, canonicalIP, cidrContains, ipFamilyOf, joinHostPort, splitHostPort } from "./ip.ts";

describe("canonicalIP", () => {
  it.each([
    ["10.0.0.1", "10.0.0.1"],
    ["010.000.000.001", "10.0.0.1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::", "fe80::"],
  ])("%s -> %s", (input, want) => {
    expect(canonicalIP(input)).toBe(want);
  });

  it.each(["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "::1::2", "g::1", "1:2:3:4:5:6:7:8:9", "10.0.0.1/8"])("rejects %j", (bad) => {
    expect(canonicalIP(bad)).toBeNull();
  });
});

describe("CIDRs", () => {
  it("clears host bits and trims whitespace, as Go's ParseCIDR", () => {
    expect(canonicalCIDR(" 203.0.113.7/25")).toBe("203.0.113.0/25");
    expect(canonicalCIDR("2001:db8::1/64")).toBe("2001:db8::/64");
    expect(canonicalCIDR("10.0.0.1")).toBe("10.0.0.1/32");
    expect(canonicalCIDR("10.0.0.0/33")).toBeNull();
  });

  it("tests containment within one family only", () => {
    expect(cidrContains("10.0.0.0/8", "10.180.0.1")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "11.0.0.1")).toBe(false);
    expect(cidrContains("0.0.0.0/0", "1.2.3.4")).toBe(true);
    expect(cidrContains("0.0.0.0/0", "::1")).toBe(false);
    expect(cidrContains("fd00::/8", "fd00:10::1")).toBe(true);
    expect(cidrContains("1.2.3.4", "1.2.3.4")).toBe(true);
  });

  it("tells families apart", () => {
    expect(ipFamilyOf("1.2.3.4")).toBe("IPv4");
    expect(ipFamilyOf("fd00::1")).toBe("IPv6");
    expect(ipFamilyOf("nope")).toBeNull();
  });
});

describe("host:port", () => {
  it("brackets IPv6 and splits both forms", () => {
    expect(joinHostPort("10.0.0.1", 80)).toBe("10.0.0.1:80");
    expect(joinHostPort("fd00::1", 53)).toBe("[fd00::1]:53");
    expect(splitHostPort("10.0.0.1:80")).toEqual({ ip: "10.0.0.1", port: 80 });
    expect(splitHostPort("[fd00::1]:53")).toEqual({ ip: "fd00::1", port: 53 });
    expect(splitHostPort("10.0.0.1")).toEqual({ ip: "10.0.0.1", port: null });
    expect(splitHostPort("fd00::1")).toEqual({ ip: "fd00::1", port: null });
  });
});
