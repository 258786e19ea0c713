// Sets a kernel parameter the rules depend on, in the network namespace the rules live in:
// net.ipv4.conf.all.route_localnet, without which node ports on 127.0.0.1 cannot be DNATed, and
// which --cleanup turns off again with the guard; and the conntrack table's size and timeouts.
// In the daemon's own namespace (a DaemonSet's pod, its init container) the files under
// /proc/sys are read and written directly, as kube-proxy does, with no process started; with
// --iptables-netns, the sysctl command through the same runner as iptables, which enters that
// namespace. The conntrack hash size is a module parameter in /sys, one for the whole machine.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CommandRunner } from "./command-runner.ts";
import { SignpostError } from "../../errors/errors.ts";
import { errorMessage } from "../../errors/error-message.ts";

/** Kernel parameters of one network namespace, by sysctl key (net.ipv4.conf.all.route_localnet). */
export interface Sysctls {
  /** Each key's value; a key that cannot be read is absent. */
  read(keys: readonly string[]): Promise<Map<string, string>>;
  /**
   * Sets every key to its value, then reads them all back. Returns, for each key that does not
   * hold its value now, why: the refusal, or the value it holds instead.
   */
  write(values: ReadonlyMap<string, string>): Promise<Map<string, string>>;
}

function checkKeys(keys: readonly string[]): void {
  for (const key of keys) if (!/^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(key)) throw new Error(`not a sysctl key: ${key}`);
}

/**
 * Sysctls from a way to read keys (a key it cannot read left out) and a way to set values, which
 * tells what it knows of each refusal: each key is checked first, and every write read back.
 */
function sysctlsFrom(readKeys: (keys: readonly string[]) => Promise<Map<string, string>>, set: (values: ReadonlyMap<string, string>) => Promise<(key: string) => string | undefined>): Sysctls {
  const read = async (keys: readonly string[]): Promise<Map<string, string>> => {
    checkKeys(keys);
    return keys.length === 0 ? new Map() : readKeys(keys);
  };
  return {
    read,
    async write(values) {
      const keys = [...values.keys()];
      checkKeys(keys);
      if (keys.length === 0) return new Map();
      const refusal = await set(values);
      const now = await read(keys);
      const failed = new Map<string, string>();
      for (const [key, value] of values) {
        if (now.get(key) !== value) failed.set(key, refusal(key) ?? `did not take: the value is ${now.get(key) ?? "unreadable"}`);
      }
      return failed;
    },
  };
}

/** The namespace this process runs in, through its files under `root` (/proc/sys; a test's directory). */
export function procSysctls(root = "/proc/sys"): Sysctls {
  const path = (key: string) => join(root, ...key.split("."));
  const read = async (keys: readonly string[]): Promise<Map<string, string>> => {
    const values = new Map<string, string>();
    await Promise.all(
      keys.map(async (key) => {
        try {
          values.set(key, (await readFile(path(key), "utf8")).trim());
        } catch {
          // Absent: the caller says what it could not read.
        }
      }),
    );
    return values;
  };
  return sysctlsFrom(read, async (values) => {
    const refused = new Map<string, string>();
    for (const [key, value] of values) {
      try {
        await writeFile(path(key), `${value}\n`);
      } catch (err) {
        refused.set(key, `cannot write ${path(key)}: ${errorMessage(err)}`);
      }
    }
    return (key) => refused.get(key);
  });
}

/** Another network namespace: the sysctl command, run by `runner` (which enters it), one run per read or write. */
export function commandSysctls(runner: CommandRunner): Sysctls {
  const read = async (keys: readonly string[]): Promise<Map<string, string>> => {
    const values = new Map<string, string>();
    // "key = value" per key it could read; the others are named on stderr, and it exits non-zero.
    const r = await runner.run("sysctl", keys);
    for (const line of r.stdout.split("\n")) {
      const at = line.indexOf(" = ");
      if (at > 0 && keys.includes(line.slice(0, at))) values.set(line.slice(0, at), line.slice(at + 3).trim());
    }
    return values;
  };
  return sysctlsFrom(read, async (values) => {
    // procps reports some refusals (EINVAL outside the host's network namespace) on stderr and
    // exits 0 all the same: what was set is read back.
    const set = await runner.run("sysctl", ["-w", ...[...values].map(([key, value]) => `${key}=${value}`)]);
    const complaints = set.stderr.split("\n").filter((line) => line.trim() !== "");
    return (key) => complaints.find((line) => line.includes(`"${key}"`) || line.includes(key.replaceAll(".", "/")));
  });
}

/** The error for a write the kernel refused or did not keep (reason: as Sysctls.write gives it). */
export function sysctlRefused(key: string, value: string, reason: string): SignpostError {
  return new SignpostError("SP_EXEC_FAILED", `sysctl -w ${key}=${value}`, reason);
}

/** Sets key to value unless it already holds it; returns whether it was changed, throws when the write did not take. */
export async function ensureSysctl(sysctls: Sysctls, key: string, value: string): Promise<boolean> {
  if ((await sysctls.read([key])).get(key) === value) return false;
  const reason = (await sysctls.write(new Map([[key, value]]))).get(key);
  if (reason !== undefined) throw sysctlRefused(key, value, reason);
  return true;
}

export const HASHSIZE_PATH = "/sys/module/nf_conntrack/parameters/hashsize";

/** Reads and writes the conntrack hash size, a module parameter shared by every network namespace. */
export interface HashsizeFile {
  read(): Promise<number | null>;
  write(value: number): Promise<void>;
}

/** The machine's conntrack hash size; null when the module parameter cannot be read. */
export const hostHashsizeFile: HashsizeFile = {
  read: async () => {
    try {
      const value = Number((await readFile(HASHSIZE_PATH, "utf8")).trim());
      return Number.isInteger(value) ? value : null;
    } catch {
      return null;
    }
  },
  write: (value) => writeFile(HASHSIZE_PATH, `${value}\n`),
};

/**
 * Turns route_localnet off for all interfaces and tells whether it is now off on each of them
 * (the kernel honours it when either `all` or the interface's own key is on).
 */
export async function routeLocalnetOff(sysctls: Sysctls, runner: CommandRunner): Promise<boolean> {
  await ensureSysctl(sysctls, "net.ipv4.conf.all.route_localnet", "0");
  const r = await runner.run("sysctl", ["-a", "--pattern", "\\.route_localnet$"]);
  if (r.exitCode !== 0) return false;
  const values = r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => l.split("=").at(-1)?.trim());
  return values.length > 0 && values.every((v) => v === "0");
}
