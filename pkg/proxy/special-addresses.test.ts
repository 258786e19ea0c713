import { describe, expect, it } from "vitest";
import { specialAddressKind } from "./special-addresses.ts";

describe("specialAddressKind", () => {
  it("names what the API server's ValidateNonSpecialIP refuses, in both families", () => {
    const kinds = ["0.0.0.0", "::", "127.0.0.1", "127.255.0.9", "::1", "169.254.169.254", "fe80::1", "224.0.0.251", "ff02::fb"].map(specialAddressKind);
    expect(kinds).toEqual(["unspecified", "unspecified", "loopback", "loopback", "loopback", "link-local", "link-local", "link-local multicast", "link-local multicast"]);
  });

  it("passes ordinary addresses, the edges of the special ranges, and non-addresses", () => {
    for (const a of ["10.0.0.1", "128.0.0.1", "126.255.255.255", "169.255.0.1", "224.0.1.1", "fec0::1", "ff05::fb", "::2", "not-an-ip", ""]) {
      expect(specialAddressKind(a), a).toBeNull();
    }
  });
});
