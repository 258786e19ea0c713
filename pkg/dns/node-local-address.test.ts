import { describe, expect, it } from "vitest";
import pino from "pino";
import { addNodeLocalAddress } from "./node-local-address.ts";
import { parseDnsCommandLine } from "./daemon-flags.ts";

const quiet = pino({ level: "silent" });

describe("node-local mode", () => {
  it("creates the dummy interface, brings it up and puts the ClusterIP on it; an existing interface is fine", async () => {
    const calls: string[] = [];
    await addNodeLocalAddress("signpost-dns0", "10.96.0.10", quiet, (file, args) => {
      calls.push(`${file} ${args.join(" ")}`);
      return Promise.resolve(args[1] === "add" ? { exitCode: 2, stderr: "RTNETLINK answers: File exists" } : { exitCode: 0, stderr: "" });
    });
    expect(calls).toEqual(["ip link add signpost-dns0 type dummy", "ip link set signpost-dns0 up", "ip addr replace 10.96.0.10/32 dev signpost-dns0"]);
  });

  it("puts the address on lo where the kernel has no dummy interfaces", async () => {
    const calls: string[] = [];
    await addNodeLocalAddress("signpost-dns0", "10.96.0.10", quiet, (file, args) => {
      calls.push(`${file} ${args.join(" ")}`);
      return Promise.resolve(args[1] === "add" ? { exitCode: 2, stderr: "Error: Unknown device type." } : { exitCode: 0, stderr: "" });
    });
    expect(calls).toEqual(["ip link add signpost-dns0 type dummy", "ip addr replace 10.96.0.10/32 dev lo"]);
  });

  it("names the ip command that failed and why", async () => {
    const run = () => Promise.resolve({ exitCode: 2, stderr: "RTNETLINK answers: Operation not permitted\n" });
    await expect(addNodeLocalAddress("signpost-dns0", "fd00::10", quiet, run)).rejects.toThrow(
      /SP_EXEC_FAILED: ip link add signpost-dns0 type dummy: exit 2: RTNETLINK answers: Operation not permitted/,
    );
  });

  it("takes --node-local-interface with a --listen address, and refuses it with a wildcard or a bad name", () => {
    const parsed = parseDnsCommandLine(["--node-local-interface=signpost-dns0", "--listen=10.96.0.10:53"]);
    expect(parsed.help === false && parsed.config.nodeLocalInterface).toBe("signpost-dns0");
    expect(() => parseDnsCommandLine(["--node-local-interface=signpost-dns0"])).toThrow(/--node-local-interface: needs --listen to name the ClusterIP/);
    expect(() => parseDnsCommandLine(["--node-local-interface=a b", "--listen=10.96.0.10:53"])).toThrow(/is not an interface name/);
    const plain = parseDnsCommandLine([]);
    expect(plain.help === false && plain.config.nodeLocalInterface).toBeNull();
  });
});
