// Sets a kernel parameter the rules depend on, through the same runner as iptables so that it
// lands in the same network namespace: net.ipv4.conf.all.route_localnet, without which node
// ports on 127.0.0.1 cannot be DNATed, and which --cleanup turns off again with the guard; and
// the conntrack table's size and timeouts. The conntrack hash size is a module parameter in
// /sys, one for the whole machine.
import { readFile, writeFile } from "node:fs/promises";
import type { CommandRunner } from "./command-runner.ts";
import { SignpostError } from "../../errors/errors.ts";

function checkKeys(keys: readonly string[]): void {
  for (const key of keys) if (!/^[a-z0-9_.]+$/.test(key)) throw new Error(`not a sysctl key: ${key}`);
}

/** A sysctl's value; null when it cannot be read. */
export async function readSysctl(runner: CommandRunner, key: string): Promise<string | null> {
  return (await readSysctls(runner, [key])).get(key) ?? null;
}

/** Several sysctls' values from one run of sysctl, by key; a key that cannot be read is absent. */
export async function readSysctls(runner: CommandRunner, keys: readonly string[]): Promise<Map<string, string>> {
  checkKeys(keys);
  const values = new Map<string, string>();
  if (keys.length === 0) return values;
  // "key = value" per key it could read; the others are named on stderr, and it exits non-zero.
  const r = await runner.run("sysctl", keys);
  for (const line of r.stdout.split("\n")) {
    const at = line.indexOf(" = ");
    if (at > 0 && keys.includes(line.slice(0, at))) values.set(line.slice(0, at), line.slice(at + 3).trim());
  }
  return values;
}

/**
 * Sets every key to its value with one run of sysctl, and reads them all back with another:
 * procps reports some refusals (EINVAL outside the host's network namespace) on stderr and
 * exits 0 all the same. Returns, for each key that does not hold its value now, why: sysctl's
 * own line about it, or the value it holds instead.
 */
export async function writeSysctls(runner: CommandRunner, values: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const keys = [...values.keys()];
  checkKeys(keys);
  const failed = new Map<string, string>();
  if (keys.length === 0) return failed;
  const set = await runner.run("sysctl", ["-w", ...keys.map((key) => `${key}=${values.get(key) ?? ""}`)]);
  const now = await readSysctls(runner, keys);
  const complaints = set.stderr.split("\n").filter((line) => line.trim() !== "");
  for (const key of keys) {
    if (now.get(key) === values.get(key)) continue;
    failed.set(key, complaints.find((line) => line.includes(`"${key}"`) || line.includes(key.replaceAll(".", "/"))) ?? `did not take: the value is ${now.get(key) ?? "unreadable"}`);
  }
  return failed;
}

/** The error for a write the kernel refused or did not keep (reason: writeSysctls's). */
export function sysctlRefused(key: string, value: string, reason: string): SignpostError {
  return new SignpostError("SP_EXEC_FAILED", `sysctl -w ${key}=${value}`, reason);
}

/** Sets key to value unless it already holds it; returns whether it was changed, throws when the write did not take. */
export async function ensureSysctl(runner: CommandRunner, key: string, value: string): Promise<boolean> {
  if ((await readSysctl(runner, key)) === value) return false;
  const reason = (await writeSysctls(runner, new Map([[key, value]]))).get(key);
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
export async function routeLocalnetOff(runner: CommandRunner): Promise<boolean> {
  await ensureSysctl(runner, "net.ipv4.conf.all.route_localnet", "0");
  const r = await runner.run("sysctl", ["-a", "--pattern", "\\.route_localnet$"]);
  if (r.exitCode !== 0) return false;
  const values = r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => l.split("=").at(-1)?.trim());
  return values.length > 0 && values.every((v) => v === "0");
}
