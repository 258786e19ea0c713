// The daemon's own namespace's kernel parameters, read and written as files (procSysctls), on a
// directory laid out as /proc/sys is; and ensureSysctl over it. The sysctl command's side
// (commandSysctls) is driven in conntrack-sysctls.test.ts, and both against a real kernel in
// test/integration/proxy-conntrack-sysctls.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureSysctl, procSysctls } from "./sysctl.ts";

const LOCALNET = "net.ipv4.conf.all.route_localnet";
const MAX = "net.netfilter.nf_conntrack_max";
let root = "";

function fakeProcSys(values: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), "signpost-procsys-"));
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split(".");
    mkdirSync(join(root, ...parts.slice(0, -1)), { recursive: true });
    writeFileSync(join(root, ...parts), `${value}\n`);
  }
  return root;
}

afterEach(() => {
  if (root !== "") rmSync(root, { recursive: true, force: true });
  root = "";
});

describe("procSysctls", () => {
  it("reads each key from its file under the root, trimmed, and leaves out a key it cannot read", async () => {
    const sysctls = procSysctls(fakeProcSys({ [LOCALNET]: "0", [MAX]: "262144" }));
    expect(await sysctls.read([LOCALNET, MAX, "net.netfilter.nf_conntrack_udp_timeout"])).toEqual(new Map([[LOCALNET, "0"], [MAX, "262144"]]));
  });

  it("writes each key's file and reads it back; a refused write is named with the file and the kernel's reason, the others are written", async () => {
    const dir = fakeProcSys({ [LOCALNET]: "0" });
    // A directory where the file would be: the write is refused, as the kernel refuses a read-only key.
    mkdirSync(join(dir, "net", "netfilter", "nf_conntrack_max"), { recursive: true });
    const failed = await procSysctls(dir).write(new Map([[MAX, "131072"], [LOCALNET, "1"]]));
    expect([...failed.keys()]).toEqual([MAX]);
    expect(failed.get(MAX)).toMatch(new RegExp(`^cannot write ${dir}/net/netfilter/nf_conntrack_max: EISDIR`));
    expect(readFileSync(join(dir, "net", "ipv4", "conf", "all", "route_localnet"), "utf8")).toBe("1\n");
  });

  it("refuses a key that is not a sysctl's name before touching a file", async () => {
    const sysctls = procSysctls(fakeProcSys({}));
    await expect(sysctls.read(["net/../../etc/passwd"])).rejects.toThrow("not a sysctl key");
    await expect(sysctls.write(new Map([["..", "1"]]))).rejects.toThrow("not a sysctl key");
  });
});

describe("ensureSysctl", () => {
  it("writes only a value that differs, and throws with the reason when the write does not take", async () => {
    const dir = fakeProcSys({ [LOCALNET]: "1" });
    expect(await ensureSysctl(procSysctls(dir), LOCALNET, "1")).toBe(false);
    expect(await ensureSysctl(procSysctls(dir), LOCALNET, "0")).toBe(true);
    expect(readFileSync(join(dir, "net", "ipv4", "conf", "all", "route_localnet"), "utf8")).toBe("0\n");
    await expect(ensureSysctl(procSysctls(dir), "net.ipv4.conf.eth9.route_localnet", "1")).rejects.toThrow(/SP_EXEC_FAILED: sysctl -w net\.ipv4\.conf\.eth9\.route_localnet=1: cannot write .*ENOENT/);
  });
});
