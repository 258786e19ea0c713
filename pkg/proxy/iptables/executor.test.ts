import { describe, expect, it } from "vitest";
import { FakeRunner } from "../exec/fake-runner.ts";
import { hasRandomFully, IptablesExecutor } from "./executor.ts";
import { IptablesCallFailure, RestoreFailure, whileLockBusy } from "./iptables.ts";
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
    const runner = new FakeRunner((call) =>
      call.args[0] === "--version" ? { stdout: "iptables v1.8.9 (legacy)\n" } : call.input?.includes("sctp") === true ? { exitCode: 2, stderr: "unknown protocol" } : undefined,
    );
    const ipt = new IptablesExecutor("IPv4", runner);
    const caps = await ipt.capabilities();
    await ipt.capabilities();
    expect([...caps.protocols]).toEqual(["TCP", "UDP"]);
    expect(caps.randomFully).toBe(true);
    expect(caps.backend).toBe("legacy");
    // --version; the SCTP rule tried, refused; the probe chain deleted. Only the filter table.
    expect(runner.calls.map((c) => c.args[0] === "--version" || c.input?.split("\n")[0])).toEqual([true, "*filter", "*filter"]);
    expect(runner.calls[2]?.input).toContain("-X KUBE-SIGNPOST-PROBE");
  });

  it("takes the backend asked for, else the default iptables' word for it, and SCTP where the rule is taken", async () => {
    for (const backend of ["default", "legacy", "nft"] as const) {
      const runner = new FakeRunner((call) => (call.args[0] === "--version" ? { stdout: "iptables v1.8.9 (nf_tables)\n" } : undefined));
      const caps = await new IptablesExecutor("IPv4", runner, backend).capabilities();
      expect({ backend: caps.backend, randomFully: caps.randomFully, protocols: [...caps.protocols] }, backend).toEqual({
        backend: backend === "legacy" ? "legacy" : "nft",
        randomFully: true,
        protocols: ["TCP", "UDP", "SCTP"],
      });
    }
  });

  it("takes --random-fully from iptables 1.6.2 on, as kube-proxy does", () => {
    expect(hasRandomFully("iptables v1.8.9 (nf_tables)")).toBe(true);
    expect(hasRandomFully("iptables v1.6.2")).toBe(true);
    expect(hasRandomFully("iptables v1.6.1")).toBe(false);
    expect(hasRandomFully("iptables v1.4.21")).toBe(false);
    expect(hasRandomFully("ip6tables-legacy v2.0.0 (legacy)")).toBe(true);
    expect(hasRandomFully("")).toBe(false);
  });
});

describe("IptablesExecutor and the xtables lock", () => {
  const busy = { exitCode: 4, stderr: "Another app is currently holding the xtables lock. Stopped waiting after 5s." };

  it("fails a probe that met a busy lock, rather than take the feature for missing, and probes again at the next call", async () => {
    let held = true;
    const runner = new FakeRunner((call) => (held && call.input?.includes("sctp") === true ? busy : call.args[0] === "--version" ? { stdout: "iptables v1.8.9 (legacy)\n" } : undefined));
    const ipt = new IptablesExecutor("IPv4", runner);
    const failure = await ipt.capabilities().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(IptablesCallFailure);
    expect((failure as IptablesCallFailure).lockBusy).toBe(true);
    held = false;
    const caps = await ipt.capabilities();
    expect(caps.randomFully).toBe(true);
    expect([...caps.protocols]).toEqual(["TCP", "UDP", "SCTP"]);
  });

  it("tells a busy lock from other failures of a call", async () => {
    const runner = new FakeRunner((call) => (call.args.includes("POSTROUTING") ? busy : { exitCode: 4, stderr: "iptables v1.8.9 (legacy): can't initialize iptables table `nat': Table does not exist" }));
    const ipt = new IptablesExecutor("IPv4", runner);
    const busyFailure = await ipt.chainRules("nat", "POSTROUTING").catch((err: unknown) => err);
    const otherFailure = await ipt.chainRules("nat", "KUBE-SERVICES").catch((err: unknown) => err);
    expect((busyFailure as IptablesCallFailure).lockBusy).toBe(true);
    expect((otherFailure as IptablesCallFailure).lockBusy).toBe(false);
  });
});

describe("whileLockBusy", () => {
  const busyFailure = () => new IptablesCallFailure("iptables", ["-w", "5", "-t", "nat", "-S", "POSTROUTING"], 4, "Can't lock /run/xtables.lock: Resource temporarily unavailable");

  it("waits out a busy lock, telling each attempt, and hands back the result", async () => {
    let calls = 0;
    const told: number[] = [];
    const result = await whileLockBusy(
      () => {
        calls++;
        return calls < 3 ? Promise.reject(busyFailure()) : Promise.resolve("caps");
      },
      (_err, attempt) => told.push(attempt),
      1,
    );
    expect(result).toBe("caps");
    expect(told).toEqual([1, 2]);
  });

  it("throws any other failure at once", async () => {
    const other = new IptablesCallFailure("iptables", ["-S"], 1, "No chain/target/match by that name.");
    let calls = 0;
    const outcome = whileLockBusy(() => {
      calls++;
      return Promise.reject(other);
    }, () => undefined, 1);
    await expect(outcome).rejects.toBe(other);
    expect(calls).toBe(1);
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
