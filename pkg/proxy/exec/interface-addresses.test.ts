import { describe, expect, it } from "vitest";
import { FakeRunner } from "./fake-runner.ts";
import { parseIpAddrJson, readInterfaceAddresses } from "./interface-addresses.ts";

const sample = JSON.stringify([
  { ifindex: 1, ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }, { family: "inet6", local: "::1", prefixlen: 128 }] },
  { ifindex: 2, ifname: "eth0", addr_info: [{ family: "inet", local: "192.168.50.1", prefixlen: 24 }, { family: "inet6", local: "fe80::1", prefixlen: 64 }] },
  { ifindex: 3, ifname: "down0", addr_info: [] },
  { ifindex: 4, ifname: "odd", addr_info: [{ family: "link" }] },
]);

describe("interface addresses", () => {
  it("reads every interface's addresses from ip -j addr", () => {
    expect(parseIpAddrJson(sample)).toEqual([
      { interface: "lo", family: "IPv4", address: "127.0.0.1" },
      { interface: "lo", family: "IPv6", address: "::1" },
      { interface: "eth0", family: "IPv4", address: "192.168.50.1" },
      { interface: "eth0", family: "IPv6", address: "fe80::1" },
    ]);
  });

  it("runs ip through the runner, and says why when it fails", async () => {
    const ok = new FakeRunner(() => ({ exitCode: 0, stdout: sample, stderr: "" }));
    expect(await readInterfaceAddresses(ok)).toHaveLength(4);
    expect(ok.calls.map((c) => [c.command, ...c.args].join(" "))).toEqual(["ip -j addr show"]);
    const failing = new FakeRunner(() => ({ exitCode: 1, stdout: "", stderr: "Cannot open network namespace\n" }));
    await expect(readInterfaceAddresses(failing)).rejects.toThrow("SP_EXEC_FAILED: ip -j addr show: exit 1: Cannot open network namespace");
  });
});
