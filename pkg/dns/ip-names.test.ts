import { describe, expect, it } from "vitest";
import { dashedName, ipFromPodLabel, ipFromReverseName, reverseName } from "./ip-names.ts";

describe("reverse names", () => {
  it("writes IPv4 under in-addr.arpa, octets reversed", () => {
    expect(reverseName("10.96.0.10")).toBe("10.0.96.10.in-addr.arpa");
  });

  it("writes IPv6 as 32 nibbles under ip6.arpa", () => {
    expect(reverseName("fd00::1")).toBe(`1.${"0.".repeat(29)}d.f.ip6.arpa`);
  });

  it("gives no reverse name for what is not an address, however close", () => {
    for (const text of ["010.0.0.1", "10.0.0.256", "1.2.3", "a.b.c.d", "10.0.0.1 ", ""]) expect(reverseName(text)).toBeNull();
    expect(reverseName("::ffff:10.0.0.1")).toMatch(/\.f\.f\.f\.f\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.ip6\.arpa$/);
  });

  it("reads back what it writes", () => {
    for (const ip of ["10.96.0.10", "0.0.0.0", "fd00:10:96::20", "2001:db8::1:0:0:1"]) {
      const name = reverseName(ip);
      expect(name === null ? null : ipFromReverseName(name)).toBe(ip);
    }
  });

  it("gives no address for partial or malformed reverse names", () => {
    for (const name of [
      "96.10.in-addr.arpa",
      "in-addr.arpa",
      "1.300.96.10.in-addr.arpa",
      "01.0.96.10.in-addr.arpa",
      "x.0.96.10.in-addr.arpa",
      "1.0.ip6.arpa",
      `g.${"0.".repeat(31)}ip6.arpa`,
    ]) {
      expect(ipFromReverseName(name)).toBeNull();
    }
  });
});

describe("endpoint and pod labels", () => {
  it("dashes an address as CoreDNS does", () => {
    expect(dashedName("10.244.1.5")).toBe("10-244-1-5");
    expect(dashedName("fd00::1")).toBe("fd00--1");
  });

  it("writes a 0 where an IPv6 address starts or ends with ::, so the label is valid and reads back", () => {
    const cases: [string, string][] = [["fd00::", "fd00--0"], ["fd00:10:244::", "fd00-10-244--0"], ["::ffff:a00:1", "0--ffff-a00-1"], ["::1", "0--1"]];
    for (const [ip, label] of cases) {
      expect(dashedName(ip)).toBe(label);
      expect(label).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
      expect(ipFromPodLabel(label)).toBe(ip);
    }
  });

  it("reads a pod label with three dashes as IPv4, anything else as IPv6", () => {
    expect(ipFromPodLabel("10-244-1-5")).toBe("10.244.1.5");
    expect(ipFromPodLabel("fd00--1")).toBe("fd00::1");
    expect(ipFromPodLabel("fd00-0-0-0-0-0-0-1")).toBe("fd00::1");
  });

  it("gives null for labels that are not addresses", () => {
    for (const label of ["nginx", "10-244-1", "10-244-1-300", "1-2-3-4-5", "10-244-1-5-", "-"]) {
      expect(ipFromPodLabel(label)).toBeNull();
    }
  });
});
