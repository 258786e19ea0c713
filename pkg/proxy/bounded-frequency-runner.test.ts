import { describe, expect, it } from "vitest";
import { BoundedFrequencyRunner } from "./bounded-frequency-runner.ts";
import { FakeClock } from "../../test/support/fake-clock.ts";

function setup(minIntervalMs = 1000, maxIntervalMs = 30_000, syncMs = 0, restUnderChurn = false, burst = 1) {
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
    { minIntervalMs, maxIntervalMs, clock, onError: (e) => errors.push(e), restUnderChurn, burst },
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

  /** Asks for a sync every `everyMs` until `untilMs`, as a stream of endpoint changes would. */
  async function requestsEvery(clock: FakeClock, runner: BoundedFrequencyRunner, everyMs: number, untilMs: number): Promise<void> {
    for (let t = 0; t < untilMs; t += everyMs) {
      runner.run();
      await clock.advance(everyMs);
    }
  }

  it("without restUnderChurn, syncs run every minInterval under sustained churn", async () => {
    const { clock, runner, at } = setup(1000, 30_000, 800);
    runner.start();
    await requestsEvery(clock, runner, 100, 5000);
    expect(at()).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
  });

  it("under sustained churn, rests after each sync one and a half times as long as it took", async () => {
    const { clock, runner, at } = setup(1000, 30_000, 800, true);
    runner.start();
    await requestsEvery(clock, runner, 100, 10_000);
    // Requests arrived during the syncs at 0 and 1000: from then on each sync (800 ms) is
    // followed by 1200 ms of rest, so they start every 2000 ms instead of every 1000.
    expect(at()).toEqual([0, 1000, 3000, 5000, 7000, 9000]);
    expect(runner.resting).toBe(true);
  });

  it("does not rest for a request that arrives during one sync only", async () => {
    const { clock, runner, at } = setup(1000, 30_000, 800, true);
    runner.start();
    await clock.advance(500);
    runner.run();
    await clock.advance(1500);
    // Changes one at a time, each after the last sync ended: never a streak.
    for (let k = 0; k < 3; k++) {
      runner.run();
      await clock.advance(1100);
    }
    expect(at()).toEqual([0, 1000, 2000, 3100, 4200]);
    expect(runner.resting).toBe(false);
  });

  it("rests at most five minIntervals, and stops resting once the churn stops", async () => {
    const { clock, runner, at } = setup(100, 60_000, 5000, true);
    runner.start();
    await requestsEvery(clock, runner, 100, 12_000);
    // The sync at 5000 is the second in a row with requests during it: the rest is 500 ms, not 5000.
    expect(at()).toEqual([0, 5000, 10_500]);
    // The sync at 10,500 had requests too; the one after it (ended at 20,500 with none) did not.
    await clock.advance(20_000);
    expect(at()).toEqual([0, 5000, 10_500, 16_000]);
    expect(runner.resting).toBe(false);
    runner.run();
    await clock.advance(0);
    expect(at()).toEqual([0, 5000, 10_500, 16_000, 32_000]);
  });

  it("with a burst of two, starts a second sync right after the first once it has been quiet, then one per minInterval", async () => {
    const { clock, runner, at } = setup(1000, 30_000, 100, false, 2);
    runner.start();
    await clock.advance(5000);
    runner.run();
    await clock.advance(50);
    // A Service's EndpointSlice, arriving while the Service's sync runs: the second token.
    runner.run();
    await clock.advance(150);
    // The bucket is empty (0.1 of a token came back): the next waits until it holds one.
    runner.run();
    await clock.advance(2000);
    expect(at()).toEqual([0, 5000, 5100, 6000]);
  });

  it("with a burst of two, sustained churn still syncs once per minInterval", async () => {
    const { clock, runner, at } = setup(1000, 30_000, 0, false, 2);
    runner.start();
    await requestsEvery(clock, runner, 100, 5000);
    expect(at()).toEqual([0, 100, 1000, 2000, 3000, 4000, 5000]);
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
