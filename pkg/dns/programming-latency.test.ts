import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ProgrammingLatency } from "./programming-latency.ts";

function setup() {
  const clock = { ms: 1_700_000_000_000 };
  const registry = new Registry();
  const latency = new ProgrammingLatency(registry, { now: () => clock.ms });
  const series = async () => {
    const text = await registry.metrics();
    const value = (suffix: string) => Number(new RegExp(`^signpost_dns_programming_duration_seconds_${suffix} (\\S+)$`, "m").exec(text)?.[1]);
    return { count: value("count"), sum: value("sum"), under1s: Number(/_bucket\{le="1"\} (\S+)/.exec(text)?.[1]) };
  };
  return { clock, latency, series };
}

describe("DNS programming latency", () => {
  it("observes the time from a slice's trigger time to its apply", async () => {
    const { clock, latency, series } = setup();
    const trigger = clock.ms + 100;
    clock.ms += 850;
    latency.sliceApplied(undefined, trigger);
    expect(await series()).toEqual({ count: 1, sum: 0.75, under1s: 1 });
  });

  it("skips changes from before the daemon started, slices without the annotation, and updates that keep the trigger time", async () => {
    const { clock, latency, series } = setup();
    latency.sliceApplied(undefined, clock.ms - 60_000);
    latency.sliceApplied(undefined, undefined);
    clock.ms += 5000;
    latency.sliceApplied(clock.ms - 2000, clock.ms - 2000);
    latency.sliceApplied(clock.ms - 3000, clock.ms - 2000);
    expect(await series()).toMatchObject({ count: 1, sum: 2 });
  });

  it("counts a trigger time ahead of this clock (skew between machines) as zero", async () => {
    const { clock, latency, series } = setup();
    latency.sliceApplied(undefined, clock.ms + 500);
    expect(await series()).toMatchObject({ count: 1, sum: 0 });
  });
});
