import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { cpuSecondsBetween, cpuTimes, treeCpuSeconds } from "./process-stats.ts";

describe("treeCpuSeconds", () => {
  it("counts a running descendant's CPU before its parent has reaped it", async () => {
    // The parent waits; its child counts (CPU work no parent has reaped yet), then sleeps.
    const parent = spawn("sh", ["-c", 'sh -c \'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 60\' & wait'], { stdio: "ignore", detached: true });
    const pid = parent.pid ?? 0;
    try {
      const start = cpuTimes(pid);
      let unreaped = 0;
      for (let tries = 0; tries < 600 && unreaped < 0.1; tries++) {
        await sleep(100);
        unreaped = treeCpuSeconds(pid) - (start.own + start.children);
      }
      expect(unreaped).toBeGreaterThanOrEqual(0.1);
      // The parent itself has used next to nothing: the work is its child's, not yet reaped.
      expect(cpuSecondsBetween(start, cpuTimes(pid))).toBeLessThan(unreaped);
    } finally {
      process.kill(-pid, "SIGKILL");
    }
  }, 90_000);

  it("is zero for a process that does not exist", () => {
    expect(treeCpuSeconds(2 ** 22 + 1)).toBe(0);
  });
});
