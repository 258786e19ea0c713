import { describe, expect, it } from "vitest";
import { BoundedFrequencyRunner } from "./bounded-frequency-runner.ts";
import { FakeClock } from "../../test/support/fake-clock.ts";

function setup(minIntervalMs = 1000, maxIntervalMs = 30_000, syncMs = 0) {
  const clock = new FakeClock();
  const starts: number[] = [];
  const errors: unknown[] = [];
  let fail = false;
  const runner = new BoundedFrequencyRunner(
    async () => {
      starts.push(clock.now());
      if (syncMs > 0) await new Promise<void>((resolve) => clock.setTimer(resolve, syncMs));
      if (fail) throw new Error("sync failed");
    },
    { minIntervalMs, maxIntervalMs, clock, onError: (e) => errors.push(e) },
  );
  const t0 = clock.now();
  const at = () => starts.map((s) => s - t0);
  return { clock, runner, at, errors, failNext: (v: boolean) => (fail = v) };
}

describe("BoundedFrequencyRunner", () => {
  it("runs the first sync as soon as it is started, not before", async () => {
    const { clock, runner, at } = setup();
    runner.run();
    await clock.advance(5000);
    expect(at()).toEqual([]);
    runner.start();
    await clock.advance(0);
    expect(at()).toEqual([5000]);
  });

  it("collapses a burst of requests into one sync after minInterval", async () => {
    const { clock, runner, at } = setup();
    runner.start();
    await clock.advance(0);
    for (let i = 0; i < 50; i++) {
      runner.run();
      await clock.advance(10);
    }
    await clock.advance(2000);
    // One at start, one burst sync at the first instant minInterval allowed.
    expect(at()).toEqual([0, 1000]);
  });

  it("runs a request at once when the last sync is older than minInterval", async () => {
    const { clock, runner, at } = setup();
    runner.start();
    await clock.advance(5000);
    runner.run();
    await clock.advance(0);
    expect(at()).toEqual([0, 5000]);
  });

  it("syncs every maxInterval when nothing asks", async () => {
    const { clock, runner, at } = setup(1000, 30_000);
    runner.start();
    await clock.advance(95_000);
    expect(at()).toEqual([0, 30_000, 60_000, 90_000]);
  });

  it("never overlaps syncs: a request during a sync runs once, after it", async () => {
    const { clock, runner, at } = setup(100, 30_000, 500);
    runner.start();
    await clock.advance(50);
    runner.run();
    runner.run();
    await clock.advance(50);
    runner.run();
    await clock.advance(2000);
    expect(at()).toEqual([0, 500]);
  });

  it("keeps going after a sync throws, and retries sooner when asked", async () => {
    const { clock, runner, at, errors, failNext } = setup(1000, 60_000);
    failNext(true);
    runner.start();
    await clock.advance(0);
    failNext(false);
    runner.retryAfter(5000);
    await clock.advance(10_000);
    expect(errors).toHaveLength(1);
    expect(at()).toEqual([0, 5000]);
  });

  it("honours minInterval even for a retry", async () => {
    const { clock, runner, at } = setup(1000, 60_000);
    runner.start();
    await clock.advance(0);
    runner.retryAfter(0);
    await clock.advance(3000);
    expect(at()).toEqual([0, 1000]);
  });

  it("starts nothing after stop()", async () => {
    const { clock, runner, at } = setup();
    runner.start();
    await clock.advance(0);
    await runner.stop();
    runner.run();
    await clock.advance(60_000);
    expect(at()).toEqual([0]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
