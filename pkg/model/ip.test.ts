import { describe, expect, it } from "vitest";
import {
  bytesToIP,
  canonicalCIDR,
  canonicalIP,
  cidrContains,
  formatIP,
  ipFamilyOf,
  ipToBytes,
  isCIDR,
  joinHostPort,
  parseIPSloppy,
  splitHostPort,
} from "./ip.ts";

describe("ipFamilyOf", () => {
  it.each([
    ["10.96.0.10", "IPv4"],
    ["fd00:10:96::a", "IPv6"],
    ["::ffff:10.0.0.1", "IPv6"],
    ["fe80::1%eth0", null],
    ["010.0.0.1", null],
    ["kube-dns", null],
    ["nope", null],
    ["", null],
  ])("%s is %s", (value, family) => {
    expect(ipFamilyOf(value)).toBe(family);
  });
});

describe("canonicalIP", () => {
  it.each([
    ["10.0.0.1", "10.0.0.1"],
    ["10.96.0.10", "10.96.0.10"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["FD00:0010:0096:0000:0000:0000:0000:0020", "fd00:10:96::20"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["fe80::", "fe80::"],
    ["::ffff:10.0.0.1", "::ffff:a00:1"],
  ])("%s -> %s", (input, want) => {
    expect(canonicalIP(input)).toBe(want);
  });

  it.each(["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "::1::2", "g::1", "1:2:3:4:5:6:7:8:9", "10.0.0.1/8", "fe80::1%eth0", "nginx", " 10.0.0.1"])(
    "rejects %j",
    (bad) => {
      expect(canonicalIP(bad)).toBeNull();
    },
  );

  it("refuses leading zeros, as Go's net.ParseIP, the API server and CoreDNS do", () => {
    expect(canonicalIP("010.000.000.001")).toBeNull();
  });
});

describe("parseIPSloppy", () => {
  it("reads leading zeros as decimal, as kube-proxy's ParseIPSloppy reads old objects and flags", () => {
    const ip = parseIPSloppy("010.000.000.001");
    expect(ip === null ? null : formatIP(ip)).toBe("10.0.0.1");
    expect(parseIPSloppy("1.2.3.256")).toBeNull();
  });
});

describe("bytes", () => {
  it("gives 4 bytes for IPv4 and 16 for IPv6, and reads them back", () => {
    expect(Array.from(ipToBytes("1.2.3.4") ?? [])).toEqual([1, 2, 3, 4]);
    expect(ipToBytes("fd00::1")?.length).toBe(16);
    expect(Array.from(ipToBytes("::ffff:10.0.0.1") ?? []).slice(10)).toEqual([0xff, 0xff, 10, 0, 0, 1]);
    expect(bytesToIP(Uint8Array.from([0xfd, 0, ...Array<number>(13).fill(0), 1]))).toBe("fd00::1");
    expect(bytesToIP(Uint8Array.from([10, 96, 0, 10]))).toBe("10.96.0.10");
  });

  it("refuses what is not an address, and IPv6 zones", () => {
    for (const bad of ["", "10.0.0", "10.0.0.256", "fe80::1%eth0", "nginx", "1:2:3:4:5:6:7:8:9"]) {
      expect(ipToBytes(bad)).toBeNull();
    }
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

  it.each([
    ["10.244.0.0/16", true],
    ["10.244.1.7/16", true],
    ["0.0.0.0/0", true],
    ["fd00::/64", true],
    ["fd00::/128", true],
    ["10.0.0.0/33", false],
    ["fd00::/129", false],
    ["10.0.0.0/08", false],
    ["10.0.0.0/", false],
    ["10.0.0.0", false],
    ["example.com/24", false],
  ])("isCIDR(%s) is %s, as the API server validates", (value, valid) => {
    expect(isCIDR(value)).toBe(valid);
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
