// Deletes the UDP conntrack entries each successful sync leaves stale (conntrack-cleanup.ts says
// which). The first sync after a start has no previous state to compare with: every UDP port
// would look new, and every live flow would go. It reads the kernel's table instead and picks
// the flows DNATed to an endpoint no longer used; later syncs compare the states before and
// after. A failed deletion is logged and counted, and the proxy goes on.
import type { Logger } from "pino";
import type { IPFamily, ObjectKey } from "../model/types.ts";
import type { Clock } from "./clock.ts";
import type { ConntrackDeletion, ConntrackFlow } from "./conntrack-cleanup.ts";
import { staleConntrackEntries, staleKernelFlows } from "./conntrack-cleanup.ts";
import type { ConntrackOutcome } from "./exec/conntrack.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import type { ProxyState } from "./proxy-state.ts";

export interface ConntrackCleaner {
  /** The kernel's UDP flows of this family, read once after a start. */
  list(): Promise<ConntrackFlow[]>;
  delete(deletions: readonly ConntrackDeletion[]): Promise<ConntrackOutcome[]>;
}

interface StaleFlowsOptions {
  readonly cleaner: ConntrackCleaner;
  readonly family: IPFamily;
  readonly log: Logger;
  readonly metrics: ProxyMetrics;
  readonly clock: Clock;
}

export class StaleFlows {
  readonly #o: StaleFlowsOptions;
  /** Whether the kernel's table has been read since the start. */
  #reconciled = false;

  constructor(options: StaleFlowsOptions) {
    this.#o = options;
  }

  /**
   * Deletes what a sync from previous to next left stale: for the Services of keys, or all of
   * them when keys is undefined (a full sync).
   */
  async afterSync(previous: ProxyState, next: ProxyState, keys: Iterable<ObjectKey> | undefined): Promise<void> {
    const o = this.#o;
    const started = o.clock.now();
    const deletions = await this.#find(previous, next, keys);
    if (deletions.length === 0) {
      o.metrics.conntrackReconciled((o.clock.now() - started) / 1000);
      return;
    }
    const outcomes = await o.cleaner.delete(deletions);
    const failed = outcomes.filter((x) => x.deleted === null);
    const failedDeletions = failed.reduce((n, x) => n + x.deletions.length, 0);
    const flows = outcomes.reduce((n, x) => n + (x.deleted ?? 0), 0);
    o.metrics.conntrackDeleted(deletions.length - failedDeletions, failedDeletions, flows);
    o.metrics.conntrackReconciled((o.clock.now() - started) / 1000);
    o.log.info({ family: o.family, filters: deletions.length, calls: outcomes.length, flows }, "stale UDP conntrack entries deleted");
    for (const f of failed) o.log.warn({ family: o.family, filters: f.deletions.length, first: f.deletions[0], err: f.error }, "conntrack deletion failed");
  }

  async #find(previous: ProxyState, next: ProxyState, keys: Iterable<ObjectKey> | undefined): Promise<ConntrackDeletion[]> {
    const o = this.#o;
    if (this.#reconciled) return staleConntrackEntries(previous, next, keys);
    this.#reconciled = true;
    try {
      const started = o.clock.now();
      const flows = await o.cleaner.list();
      const stale = staleKernelFlows(next, flows);
      o.log.info({ family: o.family, udpFlows: flows.length, stale: stale.length, ms: Math.round(o.clock.now() - started) }, "conntrack table reconciled after start");
      return stale;
    } catch (err) {
      o.log.warn({ family: o.family, err }, "cannot list the conntrack table: stale UDP flows are found by comparing states instead");
      return staleConntrackEntries(previous, next, keys);
    }
  }
}
