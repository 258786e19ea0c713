import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { serverAddresses } from "./server-addresses.ts";

const info = (address: string): NetworkInterfaceInfo =>
  address.includes(":")
    ? { address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "00:00:00:00:00:00", internal: false, cidr: null, scopeid: 0 }
    : { address, netmask: "255.255.255.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: false, cidr: null };

describe("serverAddresses", () => {
  const interfaces = {
    lo: [info("127.0.0.1"), info("::1")],
    eth0: [info("10.244.1.7"), info("fd00:10:244:1:0::7"), info("fe80::1")],
    eth1: [info("169.254.1.1"), info("10.244.1.7")],
  };

  it("takes every interface's address on the wildcard, canonical and once, without loopback and link-local", () => {
    expect(serverAddresses("0.0.0.0", interfaces)).toEqual(["10.244.1.7", "fd00:10:244:1::7"]);
    expect(serverAddresses("::", interfaces)).toEqual(["10.244.1.7", "fd00:10:244:1::7"]);
  });

  it("takes only the listen address otherwise, and nothing for loopback", () => {
    expect(serverAddresses("10.244.1.7", interfaces)).toEqual(["10.244.1.7"]);
    expect(serverAddresses("127.0.0.1", interfaces)).toEqual([]);
    expect(serverAddresses("::1", interfaces)).toEqual([]);
  });
});
