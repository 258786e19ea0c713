import { describe, expect, it } from "vitest";
import { FakeRunner } from "../exec/fake-runner.ts";
import { IptablesExecutor } from "./executor.ts";
import { RestoreFailure } from "./iptables.ts";
import { failedLine, linesAround, restoreMessage } from "./restore-failure.ts";

const nftFailure = "iptables-restore v1.8.9 (nf_tables): Chain 'KUBE-NOPE' does not exist\nError occurred at line: 4\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n";

describe("restore failure details", () => {
  it("finds the line iptables-restore names and shows the lines around it", () => {
    expect(failedLine(nftFailure)).toBe(4);
    expect(restoreMessage(nftFailure)).toBe("iptables-restore v1.8.9 (nf_tables): Chain 'KUBE-NOPE' does not exist; Error occurred at line: 4");
    const text = ["*nat", ":KUBE-X - [0:0]", "-A KUBE-X -j KUBE-NOPE", "COMMIT", ""].join("\n");
    expect(linesAround(text, 3, 1)).toEqual(["  2: :KUBE-X - [0:0]", "> 3: -A KUBE-X -j KUBE-NOPE", "  4: COMMIT"]);
  });
});

describe("IptablesExecutor", () => {
  it("restores through stdin with --noflush and the lock wait, never a shell", async () => {
    const runner = new FakeRunner();
    await new IptablesExecutor("IPv4", runner).restore("*nat\nCOMMIT\n");
    expect(runner.calls).toEqual([{ command: "iptables-restore", args: ["-w", "5", "--noflush"], input: "*nat\nCOMMIT\n" }]);
  });

  it("turns a refused restore into a RestoreFailure with the message and the lines around", async () => {
    const runner = new FakeRunner(() => ({ exitCode: 2, stderr: nftFailure }));
    const text = ["*nat", ":KUBE-X - [0:0]", "-A KUBE-X -j KUBE-NOPE", "COMMIT", ""].join("\n");
    const err = await new IptablesExecutor("IPv4", runner).restore(text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreFailure);
    const failure = err as RestoreFailure;
    expect(failure.code).toBe("SP_EXEC_FAILED");
    expect(failure.line).toBe(4);
    expect(failure.detail).toContain("Chain 'KUBE-NOPE' does not exist");
    expect(failure.context).toContain("  3: -A KUBE-X -j KUBE-NOPE");
  });

  it("uses the ip6tables binaries for IPv6", async () => {
    const runner = new FakeRunner();
    const ipt = new IptablesExecutor("IPv6", runner);
    await ipt.restore("");
    await ipt.save("nat");
    expect(runner.calls.map((c) => c.command)).toEqual(["ip6tables-restore", "ip6tables-save"]);
  });

  it("reads one chain, null when it does not exist", async () => {
    const runner = new FakeRunner((call) =>
      call.args.includes("KUBE-PROXY-CANARY") ? { stdout: "-N KUBE-PROXY-CANARY\n-A KUBE-PROXY-CANARY -j RETURN\n" } : { exitCode: 1, stderr: "No chain/target/match by that name." },
    );
    const ipt = new IptablesExecutor("IPv4", runner);
    expect(await ipt.chainRules("nat", "KUBE-PROXY-CANARY")).toEqual(["-A KUBE-PROXY-CANARY -j RETURN"]);
    expect(await ipt.chainRules("nat", "KUBE-GONE")).toBeNull();
  });

  it("probes capabilities once, and leaves no probe chain behind", async () => {
    const runner = new FakeRunner((call) => (call.input?.includes("sctp") === true ? { exitCode: 2, stderr: "unknown protocol" } : undefined));
    const ipt = new IptablesExecutor("IPv4", runner);
    const caps = await ipt.capabilities();
    await ipt.capabilities();
    expect([...caps.protocols]).toEqual(["TCP", "UDP"]);
    expect(caps.randomFully).toBe(true);
    expect(caps.backend).toBe("legacy");
    expect(runner.calls).toHaveLength(4);
    expect(runner.calls[0]?.args).toEqual(["--version"]);
    expect(runner.calls[3]?.input).toContain("-X KUBE-SIGNPOST-PROBE");
  });
});

describe("IptablesExecutor backends", () => {
  it("runs the legacy or nft flavour by name when asked", async () => {
    const runner = new FakeRunner();
    await new IptablesExecutor("IPv4", runner, "legacy").restore("");
    await new IptablesExecutor("IPv6", runner, "nft").save("nat");
    expect(runner.calls.map((c) => c.command)).toEqual(["iptables-legacy-restore", "ip6tables-nft-save"]);
  });
});
