import { describe, expect, it } from "vitest";
import { ipFamilyOf, isCIDR } from "./ip.ts";

describe("ipFamilyOf", () => {
  it.each([
    ["10.96.0.10", "IPv4"],
    ["fd00:10:96::a", "IPv6"],
    ["::ffff:10.0.0.1", "IPv6"],
    ["fe80::1%eth0", null],
    ["010.0.0.1", null],
    ["kube-dns", null],
    ["", null],
  ])("%s is %s", (value, family) => {
    expect(ipFamilyOf(value)).toBe(family);
  });
});

describe("isCIDR", () => {
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
  ])("%s: %s", (value, valid) => {
    expect(isCIDR(value)).toBe(valid);
  });
});
