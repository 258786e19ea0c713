// What the kernel says a daemon used, read from /proc: CPU time (its own, and that of the
// children it waited for: iptables-restore, nft), resident memory and its peak (which can be
// reset, so a phase's peak is measured apart from the cold start's).
import { readFileSync, writeFileSync } from "node:fs";
import { execaSync } from "execa";

const ticksPerSecond = Number(execaSync("getconf", ["CLK_TCK"]).stdout.trim()) || 100;

export interface CpuTimes {
  /** utime + stime of the process, in seconds. */
  readonly own: number;
  /** cutime + cstime: the children it has waited for, in seconds. */
  readonly children: number;
}

export function cpuTimes(pid: number): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: field 3 first.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const field = (n: number): number => Number(rest[n - 3] ?? "0");
  return { own: (field(14) + field(15)) / ticksPerSecond, children: (field(16) + field(17)) / ticksPerSecond };
}

/** VmRSS and VmHWM in MiB. */
export function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? "NaN");
  return { rssMiB: kb("VmRSS") / 1024, peakMiB: kb("VmHWM") / 1024 };
}

/** Resets VmHWM to the current RSS (Linux 4.0+, echo 5 > /proc/PID/clear_refs). */
export function resetPeakMemory(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}
