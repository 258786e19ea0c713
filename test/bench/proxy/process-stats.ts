// What the kernel says a daemon used, read from /proc: CPU time (its own, and that of the
// children it waited for: iptables-restore, nft), resident memory and its peak (which can be
// reset, so a phase's peak is measured apart from the cold start's).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { execaSync } from "execa";

const ticksPerSecond = Number(execaSync("getconf", ["CLK_TCK"]).stdout.trim()) || 100;

export interface CpuTimes {
  /** utime + stime of the process, in seconds. */
  readonly own: number;
  /** cutime + cstime: the children it has waited for, in seconds. */
  readonly children: number;
}

interface ProcStat extends CpuTimes {
  readonly parent: number;
}

function procStat(pid: number): ProcStat {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: field 3 first.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const field = (n: number): number => Number(rest[n - 3] ?? "0");
  return { parent: field(4), own: (field(14) + field(15)) / ticksPerSecond, children: (field(16) + field(17)) / ticksPerSecond };
}

export function cpuTimes(pid: number): CpuTimes {
  return procStat(pid);
}

/** CPU seconds a process and the children it reaped used between two reads of cpuTimes. */
export function cpuSecondsBetween(before: CpuTimes, after: CpuTimes): number {
  return after.own + after.children - before.own - before.children;
}

/**
 * CPU seconds used so far by a process, the children it reaped, and every descendant still
 * running (whose time reaches the parent's `children` only once it is reaped): the difference of
 * two reads is what the whole tree used between them, however its children came and went.
 */
export function treeCpuSeconds(root: number): number {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      stats.set(pid, procStat(pid));
    } catch {
      // Gone between the listing and the read: its time is in its parent's by now, or soon.
    }
  }
  const kids = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const siblings = kids.get(s.parent);
    if (siblings === undefined) kids.set(s.parent, [pid]);
    else siblings.push(pid);
  }
  let total = 0;
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    const s = stats.get(pid);
    if (s === undefined) continue;
    total += s.own + s.children;
    pending.push(...(kids.get(pid) ?? []));
  }
  return total;
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
