// Sets a kernel parameter the rules depend on, through the same runner as iptables so that it
// lands in the same network namespace: net.ipv4.conf.all.route_localnet, without which node
// ports on 127.0.0.1 cannot be DNATed, and which --cleanup turns off again with the guard.
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
