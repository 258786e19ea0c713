// bin/entry.sh, sourced by both daemons' bin scripts: with one CPU allowed, V8's garbage
// collector runs on the main thread alone (--single-threaded-gc); with more, as V8 chooses.
// Driven through sh under taskset, as a pinned daemon is started.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";

const BIN = new URL("../../bin", import.meta.url).pathname;

function gcFlags(cpus: string): string {
  const r = spawnSync("taskset", ["-c", cpus, "sh", "-c", `here=${BIN}; daemon=signpost-dns; . "$here/entry.sh"; printf '%s' "$gc_flags"`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset -c ${cpus}: ${r.stderr}`);
  return r.stdout;
}

describe("bin/entry.sh gc_flags", () => {
  it("collects garbage on the main thread alone when one CPU is allowed", () => {
    expect(gcFlags("0")).toBe("--single-threaded-gc");
  });

  // A machine with one CPU cannot allow two; every machine signpost is tested on has two or more.
  it.runIf(availableParallelism() >= 2)("leaves V8's helper threads on when more than one CPU is allowed", () => {
    expect(gcFlags("0,1")).toBe("");
    expect(gcFlags("0-1")).toBe("");
  });
});
