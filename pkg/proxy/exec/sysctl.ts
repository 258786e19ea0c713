// Sets a kernel parameter the rules depend on, through the same runner as iptables so that it
// lands in the same network namespace: net.ipv4.conf.all.route_localnet, without which node
// ports on 127.0.0.1 cannot be DNATed.
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
