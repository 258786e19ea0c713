// One coalescing runner for the sync function, after kube-proxy's bounded_frequency_runner.go:
// run() only records a request and never blocks; requests that arrive while a sync runs, or
// sooner than minInterval allows, collapse into a single later sync; and a sync runs at least
// every maxInterval even when nothing asked. Syncs never overlap. retryAfter() asks for an
// earlier run after a failure, still no sooner than minInterval allows. minInterval is a token
// bucket, as kube-proxy's iptables proxier had it (burstSyncs = 2) before its runner was
// rewritten without bursts: each start takes a token, one comes back per minInterval, and after
// a quiet spell up to `burst` syncs may start back to back. A new Service and its EndpointSlice,
// which arrive a few milliseconds apart, are then programmed by two syncs in a row instead of
// the second waiting out minInterval; sustained churn still syncs once per minInterval at most.
import type { Clock, TimerHandle } from "./clock.ts";

export interface BoundedFrequencyOptions {
  /**
   * How long the bucket takes to give back one token: under sustained churn, the least time
   * between the starts of two syncs (kube-proxy's minSyncPeriod).
   */
  readonly minIntervalMs: number;
  /** Most time between the starts of two syncs (syncPeriod). */
  readonly maxIntervalMs: number;
  readonly clock: Clock;
  /** Told about a sync that threw; the runner carries on. */
  readonly onError: (err: unknown) => void;
  /** Rest between syncs under sustained churn (see above); default false. */
  readonly restUnderChurn?: boolean;
  /** Syncs that may start back to back after a quiet spell (see above); default 1. */
  readonly burst?: number;
}

/** Syncs in a row that had requests arrive while they ran, before the runner rests. */
const CHURN_STREAK = 2;
/**
 * The rest lasts this many times as long as the last sync took, so that under sustained churn
 * syncing takes at most 40% of the time. An iptables-legacy restore rewrites the whole table
 * however small the change (about 0.7 CPU s at 10,000 Services here): a rest as long as the sync
 * (50%) used 0.9 of kube-proxy's CPU under the bench's churn, with half its latency.
 */
const REST_FACTOR = 1.5;
/** The rest is at most this many minIntervals. */
const MAX_REST_INTERVALS = 5;

export class BoundedFrequencyRunner {
  readonly #fn: () => Promise<void>;
  readonly #o: BoundedFrequencyOptions;
  #started = false;
  #stopped = false;
  #pending = false;
  #retryAt: number | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  /** Tokens left in the bucket right after the last start. */
  #tokensAfterLastStart = 0;
  #lastEnd = Number.NEGATIVE_INFINITY;
  #requestedWhileRunning = false;
  /** Syncs in a row during which a request arrived. */
  #busyStreak = 0;
  #running: Promise<void> | null = null;
  #timer: TimerHandle | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #runs = 0;

  constructor(fn: () => Promise<void>, options: BoundedFrequencyOptions) {
    this.#fn = fn;
    this.#o = options;
  }

  /** Syncs started so far. */
  get runs(): number {
    return this.#runs;
  }

  /** Lets syncs happen; requests made before are kept. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule();
  }

  /** Asks for a sync as soon as minInterval allows. */
  run(): void {
    if (this.#running !== null) this.#requestedWhileRunning = true;
    this.#pending = true;
    this.#schedule();
  }

  /** Asks for a sync after ms (sooner if one is due anyway), e.g. after a failed sync. */
  retryAfter(ms: number): void {
    const at = this.#o.clock.now() + ms;
    this.#retryAt = this.#retryAt === null ? at : Math.min(this.#retryAt, at);
    this.#schedule();
  }

  /** No sync starts after this; resolves when the one running, if any, has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running;
  }

  /** Whether the next sync rests: it is under sustained churn. */
  get resting(): boolean {
    return this.#o.restUnderChurn === true && this.#busyStreak >= CHURN_STREAK;
  }

  #dueAt(): number {
    // When the bucket next holds a whole token.
    let earliest = this.#lastStart + Math.max(0, 1 - this.#tokensAfterLastStart) * this.#o.minIntervalMs;
    if (this.resting) {
      const took = this.#lastEnd - this.#lastStart;
      earliest = Math.max(earliest, this.#lastEnd + Math.min(REST_FACTOR * took, MAX_REST_INTERVALS * this.#o.minIntervalMs));
    }
    let due = this.#lastStart + this.#o.maxIntervalMs;
    if (this.#pending) due = Math.min(due, earliest);
    if (this.#retryAt !== null) due = Math.min(due, Math.max(this.#retryAt, earliest));
    return Math.max(due, Number.isFinite(this.#lastStart) ? earliest : due);
  }

  #schedule(): void {
    if (!this.#started || this.#stopped || this.#running !== null) return;
    const due = this.#dueAt();
    if (due >= this.#timerAt && this.#timer !== null) return;
    this.#timer?.cancel();
    const now = this.#o.clock.now();
    this.#timerAt = due;
    this.#timer = this.#o.clock.setTimer(() => this.#fire(), Number.isFinite(due) ? Math.max(0, due - now) : 0);
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#stopped || this.#running !== null) return;
    this.#pending = false;
    this.#retryAt = null;
    const now = this.#o.clock.now();
    const burst = this.#o.burst ?? 1;
    const min = this.#o.minIntervalMs;
    const tokens = !Number.isFinite(this.#lastStart) || min <= 0 ? burst : Math.min(burst, this.#tokensAfterLastStart + (now - this.#lastStart) / min);
    this.#tokensAfterLastStart = tokens - 1;
    this.#lastStart = now;
    this.#runs++;
    this.#running = this.#invoke();
  }

  async #invoke(): Promise<void> {
    try {
      await this.#fn();
    } catch (err) {
      this.#o.onError(err);
    } finally {
      this.#running = null;
      this.#lastEnd = this.#o.clock.now();
      this.#busyStreak = this.#requestedWhileRunning ? this.#busyStreak + 1 : 0;
      this.#requestedWhileRunning = false;
      this.#schedule();
    }
  }
}
