import { describe, expect, it } from "vitest";
import type { DnsperfResult } from "./dnsperf.ts";
import { mergeRuns, sliceCount, turnOrder } from "./interleaved-queries.ts";

function run(completed: number, runSeconds: number, latencies: number[] = [], rcodes: Record<string, number> = { NOERROR: completed }): DnsperfResult {
  return { command: "dnsperf", qps: completed / runSeconds, sent: completed + 1, completed, lost: 1, runSeconds, rcodes, latencies: Float64Array.from(latencies).sort() };
}

describe("sliceCount", () => {
  it("cuts a run into slices of about the slice length, never none", () => {
    expect(sliceCount(10, 2)).toBe(5);
    expect(sliceCount(8, 2)).toBe(4);
    expect(sliceCount(3, 2)).toBe(2);
    expect(sliceCount(1, 2)).toBe(1);
    expect(sliceCount(0.2, 2)).toBe(1);
  });
});

describe("turnOrder", () => {
  it("goes forwards in even slices and backwards in odd ones, so each server goes first as often", () => {
    const servers = ["ceiling", "signpost", "coredns"];
    expect(turnOrder(servers, 0)).toEqual(["ceiling", "signpost", "coredns"]);
    expect(turnOrder(servers, 1)).toEqual(["coredns", "signpost", "ceiling"]);
    expect(turnOrder(servers, 2)).toEqual(["ceiling", "signpost", "coredns"]);
    expect(servers).toEqual(["ceiling", "signpost", "coredns"]);
  });
});

describe("mergeRuns", () => {
  it("gives queries/s as every completed query over every slice's run time, not a mean of the slices' rates", () => {
    // 1 s at 10,000 q/s and 3 s at 2,000 q/s: 16,000 queries in 4 s, not the mean rate 6,000.
    const merged = mergeRuns([run(10_000, 1), run(6_000, 3)]);
    expect(merged.qps).toBe(4_000);
    expect(merged.completed).toBe(16_000);
    expect(merged.sent).toBe(16_002);
    expect(merged.lost).toBe(2);
    expect(merged.runSeconds).toBe(4);
  });

  it("adds up response codes and keeps every latency, sorted", () => {
    const merged = mergeRuns([run(3, 1, [0.003, 0.001, 0.002], { NOERROR: 2, NXDOMAIN: 1 }), run(2, 1, [0.0005, 0.004], { NOERROR: 2 })]);
    expect(merged.rcodes).toEqual({ NOERROR: 4, NXDOMAIN: 1 });
    expect([...merged.latencies]).toEqual([0.0005, 0.001, 0.002, 0.003, 0.004]);
  });

  it("gives 0 q/s, not NaN, when no slice ran", () => {
    const merged = mergeRuns([]);
    expect(merged.qps).toBe(0);
    expect(merged.latencies.length).toBe(0);
  });
});
