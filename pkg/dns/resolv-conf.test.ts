import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalNameserver, parseResolvConf, readUpstreams, refuseSelfUpstream, selfUpstream } from "./resolv-conf.ts";

describe("parseResolvConf", () => {
  it("reads the nameserver lines in order, port 53, and skips comments and other keywords", () => {
    const text = [
      "# generated",
      "search default.svc.cluster.local svc.cluster.local",
      "nameserver 192.0.2.53",
      "nameserver   2001:db8::53  # second",
      "; nameserver 192.0.2.99",
      "nameserver fe80::1%eth0",
      "nameserver not-an-ip",
      "options ndots:5",
    ].join("\n");
    expect(parseResolvConf(text)).toEqual([
      { address: "192.0.2.53", port: 53 },
      { address: "2001:db8::53", port: 53 },
      { address: "fe80::1%eth0", port: 53 },
    ]);
  });

  it("writes each address as the kernel reports a sender, whatever its spelling in the file", () => {
    const text = ["nameserver FD00:0:0::0010", "nameserver 0:0:0:0:0:0:0:0001", "nameserver FE80::0001%eth0", "nameserver ::ffff:192.0.2.53"].join("\n");
    expect(parseResolvConf(text).map((u) => u.address)).toEqual(["fd00::10", "::1", "fe80::1%eth0", "192.0.2.53"]);
  });
});

describe("canonicalNameserver", () => {
  it("keeps canonical addresses as they are and refuses what is not an address", () => {
    expect(canonicalNameserver("10.96.0.10")).toBe("10.96.0.10");
    expect(canonicalNameserver("2001:db8::53")).toBe("2001:db8::53");
    expect(canonicalNameserver("2001:DB8:0:0:1::1")).toBe("2001:db8::1:0:0:1");
    for (const bad of ["010.0.0.1", "10.0.0.1%eth0", "fd00::1::2", "nameserver", ""]) expect(canonicalNameserver(bad)).toBeNull();
  });
});

describe("readUpstreams", () => {
  const dir = mkdtempSync(join(tmpdir(), "resolv-"));

  it("names the file when it is missing", () => {
    expect(() => readUpstreams(join(dir, "missing.conf"))).toThrow(/SP_BAD_CONFIG: --upstream .*missing.conf: the resolv.conf does not exist/);
  });

  it("refuses a file without a nameserver", () => {
    const path = join(dir, "empty.conf");
    writeFileSync(path, "search example.org\n");
    expect(() => readUpstreams(path)).toThrow(/has no usable nameserver line/);
  });
});

describe("selfUpstream", () => {
  const locals = () => ["10.1.2.3", "fd00::3"];
  const up = (address: string) => ({ address, port: 53 });

  it("finds the listen address itself", () => {
    expect(selfUpstream([up("192.0.2.1"), up("10.96.0.10")], { host: "10.96.0.10", port: 53 }, locals)).toEqual(up("10.96.0.10"));
  });

  it("treats loopback and the host's own addresses as itself under a wildcard listen", () => {
    expect(selfUpstream([up("127.0.0.53")], { host: "0.0.0.0", port: 53 }, locals)).toEqual(up("127.0.0.53"));
    expect(selfUpstream([up("10.1.2.3")], { host: "0.0.0.0", port: 53 }, locals)).toEqual(up("10.1.2.3"));
    expect(selfUpstream([up("::1")], { host: "::", port: 53 }, locals)).toEqual(up("::1"));
    expect(selfUpstream([up("FD00::3")], { host: "::", port: 53 }, locals)).toEqual(up("FD00::3"));
  });

  it("lets other ports, other hosts and the other family through", () => {
    expect(selfUpstream([up("127.0.0.1")], { host: "127.0.0.1", port: 1053 }, locals)).toBeNull();
    expect(selfUpstream([up("127.0.0.2")], { host: "127.0.0.1", port: 53 }, locals)).toBeNull();
    expect(selfUpstream([up("192.0.2.1")], { host: "0.0.0.0", port: 53 }, locals)).toBeNull();
    expect(selfUpstream([up("::1")], { host: "0.0.0.0", port: 53 }, locals)).toBeNull();
  });

  it("refuses to start with a message naming the nameserver and the listen address", () => {
    expect(() => refuseSelfUpstream([up("127.0.0.1")], { host: "0.0.0.0", port: 53 }, "/etc/resolv.conf")).toThrow(
      "SP_DNS_LOOP: --upstream /etc/resolv.conf: nameserver 127.0.0.1 is signpost-dns's own listen address 0.0.0.0:53",
    );
  });
});
