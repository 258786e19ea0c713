// Sets a kernel parameter the rules depend on, through the same runner as iptables so that it
// lands in the same network namespace: net.ipv4.conf.all.route_localnet, without which node
// ports on 127.0.0.1 cannot be DNATed, and which --cleanup turns off again with the guard; and
// the conntrack table's size and timeouts. The conntrack hash size is a module parameter in
// /sys, one for the whole machine.
import { readFile, writeFile } from "node:fs/promises";
import type { HashsizeFile } from "../conntrack-sysctls.ts";
import { HASHSIZE_PATH } from "../conntrack-sysctls.ts";
import type { CommandRunner } from "./command-runner.ts";

/** Sets key to value unless it already holds it; returns whether it was changed. */
export async function ensureSysctl(runner: CommandRunner, key: string, value: string): Promise<boolean> {
  if (!/^[a-z0-9_.]+$/.test(key)) throw new Error(`not a sysctl key: ${key}`);
  const now = await runner.run("sysctl", ["-n", key]);
  if (now.exitCode === 0 && now.stdout.trim() === value) return false;
  const set = await runner.run("sysctl", ["-w", `${key}=${value}`]);
  if (set.exitCode !== 0) throw new Error(`sysctl -w ${key}=${value}: ${set.stderr.trim()}`);
  return true;
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
