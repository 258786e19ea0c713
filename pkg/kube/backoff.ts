// Capped exponential backoff with jitter, as client-go's reflector uses between failed lists and
// watches: the delay doubles from initialMs up to maxMs, and each wait is stretched by a random
// factor in [1, 1 + jitter) so that many clients restarting together do not retry in lockstep.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.5 };

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = defaultBackoff, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** How many delays have been handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    const { initialMs, maxMs, factor, jitter } = this.#options;
    const base = Math.min(maxMs, initialMs * factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 + jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
