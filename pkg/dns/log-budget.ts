// A bound on how many lines a second a log writes: a token bucket that refills `rate` tokens a
// second up to `rate`, so a burst of one second's worth passes and a flood is cut to the rate.
// What it refuses is counted, in total for the metric and since the last line written, so the
// next line written can say how many are missing before it.

export class LogBudget {
  readonly #now: () => number;
  #rate: number;
  #tokens: number;
  #refilledAt: number;
  #dropped = 0;
  #droppedSinceWritten = 0;

  /** `now`: milliseconds, monotonic; performance.now by default. */
  constructor(rate: number, now: () => number = () => performance.now()) {
    this.#now = now;
    this.#rate = rate;
    this.#tokens = rate;
    this.#refilledAt = now();
  }

  setRate(rate: number): void {
    this.#rate = rate;
    this.#tokens = Math.min(this.#tokens, rate);
  }

  /** Lines refused so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** null: over budget, do not write (counted); else the lines refused since the last one written. */
  take(): number | null {
    const now = this.#now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      this.#dropped++;
      this.#droppedSinceWritten++;
      return null;
    }
    this.#tokens -= 1;
    const missed = this.#droppedSinceWritten;
    this.#droppedSinceWritten = 0;
    return missed;
  }
}
