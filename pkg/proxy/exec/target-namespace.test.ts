import { describe, expect, it } from "vitest";
import { targetNamespace } from "./target-namespace.ts";

describe("targetNamespace", () => {
  it("reads its own namespace in-process: the addresses from the process, the sysctls from /proc/sys", async () => {
    const own = targetNamespace(null);
    expect(await own.interfaceAddresses()).toContainEqual({ interface: "lo", family: "IPv4", address: "127.0.0.1" });
    expect((await own.sysctls.read(["net.ipv4.ip_forward"])).get("net.ipv4.ip_forward")).toMatch(/^[01]$/);
  });

  it("reaches a named namespace only through commands run in it", async () => {
    // No namespace has this name: every read must fail, and say where it tried.
    const name = `signpost-absent-${process.pid}`;
    const other = targetNamespace(name);
    await expect(other.interfaceAddresses()).rejects.toThrow(name);
    expect((await other.sysctls.read(["net.ipv4.ip_forward"])).size).toBe(0);
    expect((await other.runner.run("true", [])).exitCode).not.toBe(0);
  });
});
