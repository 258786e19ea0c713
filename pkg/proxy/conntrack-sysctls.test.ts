import { describe, expect, it } from "vitest";
import { applyConntrackSysctls, conntrackMax, defaultConntrackSettings, planConntrackSysctls } from "./conntrack-sysctls.ts";
import { commandSysctls, HASHSIZE_PATH, type HashsizeFile } from "./exec/sysctl.ts";
import type { CommandRunner } from "./exec/command-runner.ts";

const MAX = "net.netfilter.nf_conntrack_max";
const ESTABLISHED = "net.netfilter.nf_conntrack_tcp_timeout_established";
const CLOSE_WAIT = "net.netfilter.nf_conntrack_tcp_timeout_close_wait";
const BE_LIBERAL = "net.netfilter.nf_conntrack_tcp_be_liberal";

describe("conntrackMax", () => {
  it("scales by cores with kube-proxy's floor and 1M cap, and 0 per core means leave it", () => {
    expect(conntrackMax(defaultConntrackSettings, 2)).toBe(131_072);
    expect(conntrackMax(defaultConntrackSettings, 8)).toBe(262_144);
    expect(conntrackMax(defaultConntrackSettings, 64)).toBe(1_048_576);
    expect(conntrackMax({ ...defaultConntrackSettings, maxPerCore: 0 }, 8)).toBe(0);
  });
});

describe("planConntrackSysctls", () => {
  const current = new Map([[MAX, 262_144], [HASHSIZE_PATH, 65_536], [ESTABLISHED, 432_000], [CLOSE_WAIT, 60]]);

  it("never lowers a larger nf_conntrack_max, and sets the timeouts that differ", () => {
    expect(planConntrackSysctls(defaultConntrackSettings, 2, current)).toEqual([
      { key: ESTABLISHED, value: 86_400 },
      { key: CLOSE_WAIT, value: 3600 },
    ]);
  });

  it("raises nf_conntrack_max and the hash size to a quarter of it", () => {
    expect(planConntrackSysctls({ ...defaultConntrackSettings, tcpEstablishedTimeout: 0, tcpCloseWaitTimeout: 0 }, 16, current)).toEqual([
      { key: MAX, value: 524_288 },
      { key: HASHSIZE_PATH, value: 131_072 },
    ]);
  });

  it("leaves a zero timeout to the kernel and writes be_liberal only when asked", () => {
    const settings = { ...defaultConntrackSettings, maxPerCore: 0, tcpEstablishedTimeout: 0, tcpCloseWaitTimeout: 0, tcpBeLiberal: true, udpStreamTimeout: 120 };
    expect(planConntrackSysctls(settings, 2, current)).toEqual([
      { key: "net.netfilter.nf_conntrack_tcp_be_liberal", value: 1 },
      { key: "net.netfilter.nf_conntrack_udp_timeout_stream", value: 120 },
    ]);
  });
});

describe("applyConntrackSysctls", () => {
  it("reads with one run of sysctl and writes with one, reports a refused write by name and goes on with the others", async () => {
    const values = new Map<string, string>([[MAX, "1000"], [ESTABLISHED, "5"], [CLOSE_WAIT, "3600"]]);
    const runs: (readonly string[])[] = [];
    const runner: CommandRunner = {
      run: (_command, args) => {
        runs.push(args);
        return Promise.resolve(answer(args));
      },
    };
    // As procps does: a line per key it read or set, stderr for the others, and exit 1 then.
    const answer = (args: readonly string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const writing = args[0] === "-w";
      for (const arg of writing ? args.slice(1) : args) {
        const [key = "", value] = arg.split("=");
        if (writing && key === MAX) err.push(`sysctl: setting key "${MAX}": Invalid argument`);
        else if (writing) values.set(key, value ?? "");
        const now = values.get(key);
        if (now === undefined) err.push(`sysctl: cannot stat /proc/sys/${key.replaceAll(".", "/")}: No such file or directory`);
        else if (!writing || key !== MAX) out.push(`${key} = ${now}`);
      }
      return { exitCode: err.length > 0 ? 1 : 0, stdout: out.map((l) => `${l}\n`).join(""), stderr: err.join("\n") };
    };
    let hash = 1000;
    const hashsize: HashsizeFile = { read: () => Promise.resolve(hash), write: (v) => Promise.resolve(void (hash = v)) };
    const result = await applyConntrackSysctls(defaultConntrackSettings, 2, commandSysctls(runner), hashsize);
    expect(result.failed).toEqual([{ change: { key: MAX, value: 131_072 }, reason: `SP_EXEC_FAILED: sysctl -w ${MAX}=131072: sysctl: setting key "${MAX}": Invalid argument` }]);
    expect(result.set).toEqual([{ key: HASHSIZE_PATH, value: 32_768 }, { key: ESTABLISHED, value: 86_400 }]);
    expect(values.get(ESTABLISHED)).toBe("86400");
    expect(hash).toBe(32_768);
    expect(result.tcpBeLiberal).toBe(false); // unreadable here
    // Read all, write what differs, read that back.
    expect(runs.map((args) => args[0] === "-w")).toEqual([false, true, false]);
    expect(runs[1]).toEqual(["-w", `${MAX}=131072`, `${ESTABLISHED}=86400`]);
  });

  it("reports be_liberal on once it was written on", async () => {
    const values = new Map<string, string>([[BE_LIBERAL, "0"]]);
    const runner: CommandRunner = {
      run: (_command, args) => {
        const writing = args[0] === "-w";
        for (const arg of writing ? args.slice(1) : []) values.set(arg.split("=")[0] ?? "", arg.split("=")[1] ?? "");
        const keys = writing ? args.slice(1).map((a) => a.split("=")[0] ?? "") : args;
        return Promise.resolve({ exitCode: 0, stdout: keys.filter((k) => values.has(k)).map((k) => `${k} = ${values.get(k)}\n`).join(""), stderr: "" });
      },
    };
    const hashsize: HashsizeFile = { read: () => Promise.resolve(null), write: () => Promise.resolve() };
    const settings = { ...defaultConntrackSettings, maxPerCore: 0, tcpEstablishedTimeout: 0, tcpCloseWaitTimeout: 0, tcpBeLiberal: true };
    const result = await applyConntrackSysctls(settings, 2, commandSysctls(runner), hashsize);
    expect(result).toEqual({ set: [{ key: BE_LIBERAL, value: 1 }], failed: [], tcpBeLiberal: true });
  });

  it("runs sysctl once when nothing differs", async () => {
    const runs: (readonly string[])[] = [];
    const runner: CommandRunner = {
      run: (_command, args) => {
        runs.push(args);
        return Promise.resolve({ exitCode: 0, stdout: args.map((k) => `${k} = ${k === MAX ? 262_144 : k === ESTABLISHED ? 86_400 : k === BE_LIBERAL ? 1 : 3600}\n`).join(""), stderr: "" });
      },
    };
    const hashsize: HashsizeFile = { read: () => Promise.resolve(65_536), write: () => Promise.reject(new Error("not expected")) };
    const result = await applyConntrackSysctls(defaultConntrackSettings, 2, commandSysctls(runner), hashsize);
    // be_liberal, found on, stays on (the settings leave it alone) and is reported on.
    expect(result).toEqual({ set: [], failed: [], tcpBeLiberal: true });
    expect(runs).toHaveLength(1);
  });
});
