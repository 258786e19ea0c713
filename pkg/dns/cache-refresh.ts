// Refreshes of cached answers that run in the background, behind the answer already given from
// the cache: prefetches of popular entries and RFC 8767's refresh after a stale answer. At most
// `limit` run at once; one more is not started (the entry is refreshed later, or expires as
// usual), so a burst of popular names cannot queue unbounded work behind the clients' queries.
export class BackgroundRefresh {
  readonly #limit: number;
  #running = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get running(): number {
    return this.#running;
  }

  /** Runs `refresh` unless `limit` already run; false when it was not started. Its failure is the caller's to note. */
  start(refresh: () => Promise<unknown>): boolean {
    if (this.#running >= this.#limit) return false;
    this.#running++;
    void refresh()
      .catch(() => {})
      .finally(() => this.#running--);
    return true;
  }
}
