// At most `limit` tasks at once, the rest waiting in order, at most `maxWaiting` of them (one
// more fails at once). The forwarder runs its exchanges over TCP through one: each carries an
// answer of up to 64 KiB, read and copied while it arrives, so the number running is what
// bounds the bytes a flood of large upstream answers holds at a time.
export class ConcurrencyLimit {
  readonly #limit: number;
  readonly #maxWaiting: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(limit: number, maxWaiting: number) {
    this.#limit = limit;
    this.#maxWaiting = maxWaiting;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running < this.#limit) {
      this.#running++;
    } else {
      if (this.#waiting.length >= this.#maxWaiting) throw new Error(`${this.#waiting.length} exchanges already wait for one of ${this.#limit} slots`);
      // A finishing task hands its slot straight to the first waiter: #running stays as it is.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
