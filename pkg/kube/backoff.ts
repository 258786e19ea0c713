// Capped exponential backoff with jitter, as client-go's reflector uses between failed lists and
// watches: the delay doubles from initialMs up to maxMs, and each wait is stretched by a random
// factor in [1, 1 + jitter) so that many clients restarting together do not retry in lockstep.
// A server that refuses connections (restarting, not yet listening) is retried at a short cap:
// a refused connect costs it nothing, and a long doubled delay would hold every change made
// after it comes back for up to the full cap (40 s after a 60 s outage).

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** The cap while the server cannot be reached at all: with the jitter, a retry at most every 3 s. */
export const UNREACHABLE_MAX_MS = 2_000;

const CONNECTION_FAILURES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

/** Whether an error (or one of its causes) is a failed or dropped connection, not an answer from the server. */
export function isConnectionFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ("code" in e && typeof e.code === "string" && CONNECTION_FAILURES.has(e.code)) return true;
  }
  return false;
}

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;
  /** The exponent of the next delay; it stops growing while a cap holds the delay down. */
  #step = 0;

  constructor(options: BackoffOptions = defaultBackoff, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** How many delays have been handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay; `cap` lowers the maximum for this one (see UNREACHABLE_MAX_MS). */
  next(cap = Infinity): number {
    const { initialMs, maxMs, factor, jitter } = this.#options;
    const raw = initialMs * factor ** this.#step;
    const base = Math.min(maxMs, cap, raw);
    this.#attempt++;
    if (raw < Math.min(maxMs, cap)) this.#step++;
    return Math.round(base * (1 + jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
    this.#step = 0;
  }
}
