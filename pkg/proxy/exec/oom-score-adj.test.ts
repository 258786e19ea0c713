import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyOomScoreAdj, OOM_SCORE_ADJ_PATH } from "./oom-score-adj.ts";

const dir = mkdtempSync(join(tmpdir(), "signpost-oom-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("applyOomScoreAdj", () => {
  it("writes the value and reads it back", async () => {
    const file = join(dir, "oom_score_adj");
    writeFileSync(file, "0\n");
    expect(await applyOomScoreAdj(-999, file)).toBeNull();
    expect(readFileSync(file, "utf8")).toBe("-999\n");
  });

  it("reports a write that cannot be made instead of throwing", async () => {
    expect(await applyOomScoreAdj(-999, join(dir, "missing", "oom_score_adj"))).toMatch(/ENOENT/);
  });

  it("raises this process's own score (raising needs no privilege)", async () => {
    const before = readFileSync(OOM_SCORE_ADJ_PATH, "utf8").trim();
    const raised = Math.min(1000, Number(before) + 1);
    expect(await applyOomScoreAdj(raised)).toBeNull();
    expect(readFileSync(OOM_SCORE_ADJ_PATH, "utf8").trim()).toBe(String(raised));
  });
});
