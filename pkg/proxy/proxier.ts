// The iptables proxier of one IP family: watch events go into the change trackers (handlers only
// record and ask for a sync), and the coalescing runner calls sync(), which drains the trackers,
// updates the node-local state, renders, restores, and then does what follows a restore: jumps
// from the built-in chains, stale UDP conntrack entries, health and metrics. A sync is partial
// (only the Services that changed) unless it is the first, the periodic full one, the one after
// a failure, after a change of node or settings, or after the canary showed a flush. The canary
// is checked on its own timer, every syncPeriod as kube-proxy's monitor does, so that a partial
// sync forks no iptables process besides its restore.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { serviceKeyOf } from "../model/key.ts";
import type { EndpointSlice, IPFamily, Node, ObjectKey, Service } from "../model/types.ts";
import { BoundedFrequencyRunner } from "./bounded-frequency-runner.ts";
import { EndpointSliceChangeTracker, ServiceChangeTracker } from "./change-tracker.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { ProxyHealth } from "./health/proxy-health.ts";
import type { Iptables, IptablesCapabilities } from "./iptables/iptables.ts";
import { RestoreFailure } from "./iptables/iptables.ts";
import type { SavedTables } from "./iptables/kernel-checks.ts";
import { flushedTables, readBeforeFullSync, readTables } from "./iptables/kernel-checks.ts";
import { RenderCache } from "./iptables/render-cache.ts";
import type { BuiltinJump } from "./iptables/render-static.ts";
import { builtinJumpsFor, nodePortsOnAllAddresses } from "./iptables/render-static.ts";
import type { RenderConfig } from "./iptables/render-config.ts";
import { LARGE_CLUSTER_ENDPOINTS } from "./iptables/render-config.ts";
import type { RenderResult } from "./iptables/render.ts";
import { renderIptables, renderOrder, renderServiceChains } from "./iptables/render.ts";
import type { DispatchChains } from "./iptables/service-dispatch.ts";
import type { LostNodePorts } from "./node-port-conflicts.ts";
import { lostNodePorts, lostNodePortsChanged, nodePortOwner } from "./node-port-conflicts.ts";
import type { NodeContext, ProxyState, ServiceInputs } from "./proxy-state.ts";
import { buildProxyState, noLocalEndpoints, totalEndpoints, updateProxyState } from "./proxy-state.ts";
import type { ProxyMetrics, SyncKind } from "./proxy-metrics.ts";
import type { ProxySettings } from "./proxy-settings.ts";
import { renderConfigFor } from "./proxy-settings.ts";
import type { ConntrackCleaner } from "./stale-flows.ts";
import { StaleFlows } from "./stale-flows.ts";

/** kube-proxy's FullSyncPeriod: a partial sync trusts the kernel; once an hour it is rewritten whole. */
export const FULL_SYNC_PERIOD_MS = 3_600_000;

/**
 * Services per staged batch of a large full sync on iptables-nft (see renderServiceChains); 0
 * turns staging off. iptables-legacy rewrites the whole table on every call, so there one
 * restore is cheaper and nothing is staged.
 */
export const STAGE_BATCH_SERVICES = 250;

/**
 * Syncs that may start back to back after a quiet spell (bounded-frequency-runner.ts): a new
 * Service's rules and then its endpoints', a few milliseconds apart, without the second waiting
 * out --min-sync-period. kube-proxy's iptables proxier had the same burst (burstSyncs).
 */
export const SYNC_BURST = 2;

export interface ProxierOptions {
  readonly family: IPFamily;
  readonly nodeName: string;
  readonly settings: ProxySettings;
  readonly iptables: Iptables;
  /** null: stale UDP entries are not deleted (no conntrack binary). */
  readonly conntrack: ConntrackCleaner | null;
  readonly log: Logger;
  readonly metrics: ProxyMetrics;
  readonly health: ProxyHealth;
  readonly clock: Clock;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly fullSyncPeriodMs?: number;
  /** The node's nf_conntrack_tcp_be_liberal is on: no DROP rule for INVALID packets. */
  readonly tcpBeLiberal?: boolean;
  /** Services per staged batch of a full sync with more than twice as many; default STAGE_BATCH_SERVICES. */
  readonly stageBatchServices?: number;
  /**
   * Reads the addresses of this family on the node's interfaces, which --nodeport-addresses is
   * matched against; absent: the Node's addresses are used instead.
   */
  readonly interfaceAddresses?: (family: IPFamily) => Promise<readonly string[]>;
  /** Told the programmed state after each successful sync (health-check node ports). */
  readonly onProgrammed?: (state: ProxyState) => void;
  /** Called after each successful full sync, whose render and iptables-save text left the most garbage. */
  readonly afterFullSync?: () => void;
}

/**
 * Why a sync rewrites every Service rather than those that changed: the first after a start, the
 * periodic one (FULL_SYNC_PERIOD_MS), the one after a failed sync, after the canary showed a
 * flush, after a change of the Node or of the kernel's capabilities, or of the render settings.
 */
export type FullSyncReason = "start" | "periodic" | "failure" | "canary" | "node" | "config";

export interface SyncReport {
  readonly kind: SyncKind;
  readonly ok: boolean;
  readonly writtenServices: number;
  readonly deletedChains: number;
}

export class Proxier {
  readonly #o: ProxierOptions;
  readonly #services = new ServiceChangeTracker();
  readonly #slices = new EndpointSliceChangeTracker();
  readonly #runner: BoundedFrequencyRunner;
  readonly #cache = new RenderCache();
  readonly #staleFlows: StaleFlows | null;
  /** Earliest last-change-trigger-time of the pending EndpointSlice changes, per Service. */
  #triggers = new Map<ObjectKey, number>();
  #node: Node | null = null;
  #ctx: NodeContext | null = null;
  /** Node ports each Service claims but an older Service keeps (node-port-conflicts.ts). */
  #lostNodePorts: LostNodePorts = new Map();
  #config: RenderConfig | null = null;
  /** The state the last render was made from, programmed or not. */
  #state: ProxyState = new Map();
  /** The state the kernel holds: the last one restored successfully. */
  #programmed: ProxyState = new Map();
  #natChains: ReadonlySet<string> = new Set();
  /** The KUBE-DST chains the last restore left in the kernel, with their rules. */
  #dispatchChains: DispatchChains = new Map();
  /**
   * Why the next sync must be full, beyond what it finds itself, each with the number of the
   * request that owed it: a sync settles the requests made before it started, so one made while
   * it runs (the canary check) is still owed when it ends.
   */
  readonly #owedFullSync = new Map<FullSyncReason, number>([["start", 0]]);
  #fullSyncRequests = 0;
  #lastFullSync = Number.NEGATIVE_INFINITY;
  #last: SyncReport | null = null;
  #canaryTimer: TimerHandle | null = null;
  #stopped = false;

  constructor(options: ProxierOptions) {
    this.#o = options;
    const { conntrack: cleaner, family, log, metrics, clock } = options;
    this.#staleFlows = cleaner === null ? null : new StaleFlows({ cleaner, family, log, metrics, clock });
    this.#runner = new BoundedFrequencyRunner(() => this.sync().then(() => undefined), {
      minIntervalMs: options.minSyncPeriodMs,
      maxIntervalMs: options.syncPeriodMs,
      clock: options.clock,
      onError: (err) => options.log.error({ err, family: options.family }, "sync failed unexpectedly"),
      restUnderChurn: true,
      burst: SYNC_BURST,
    });
  }

  get family(): IPFamily {
    return this.#o.family;
  }

  /** The report of the last sync, null before the first. */
  get lastSync(): SyncReport | null {
    return this.#last;
  }

  /** The node-local state of the last render. */
  get state(): ProxyState {
    return this.#state;
  }

  /** Records a Service event: (null, svc) add, (old, svc) update, (svc, null) delete. */
  onServiceEvent(previous: Service | null, current: Service | null): void {
    if (this.#services.update(previous, current)) this.#queue();
    this.#o.metrics.serviceChanges(this.#services.pendingCount(), 0);
  }

  /**
   * Records an EndpointSlice event. triggerTimeMs is the slice's last-change-trigger-time (when
   * the change that caused it happened), for network programming latency; null when unknown.
   */
  onSliceEvent(previous: EndpointSlice | null, current: EndpointSlice | null, triggerTimeMs: number | null = null): void {
    const pending = this.#slices.update(previous, current);
    const slice = current ?? previous;
    const key = slice === null ? null : serviceKeyOf(slice);
    if (triggerTimeMs !== null && key !== null) {
      const known = this.#triggers.get(key);
      if (known === undefined || triggerTimeMs < known) this.#triggers.set(key, triggerTimeMs);
    }
    if (pending) this.#queue();
    this.#o.metrics.endpointChanges(this.#slices.pendingCount(), 0);
  }

  /** The Node this proxy runs on, or null until it is known; a change calls for a full sync. */
  setNode(node: Node | null): void {
    if (isDeepStrictEqual(node, this.#node)) return;
    this.#node = node;
    this.#queue();
  }

  /** Starts syncing: call once the initial lists have been delivered. The first sync is full. */
  start(): void {
    this.#runner.start();
    this.#scheduleCanaryCheck();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#canaryTimer?.cancel();
    this.#canaryTimer = null;
    await this.#runner.stop();
  }

  #scheduleCanaryCheck(): void {
    if (this.#stopped) return;
    this.#canaryTimer = this.#o.clock.setTimer(() => {
      void this.checkCanary().finally(() => this.#scheduleCanaryCheck());
    }, this.#o.syncPeriodMs);
  }

  /**
   * Looks for the canary of each table, written by the last full sync: gone or empty means
   * someone flushed our rules, and a full sync is requested. Returns whether it was. Skipped
   * while a full sync is due anyway. The timer calls it; tests may too.
   */
  async checkCanary(): Promise<boolean> {
    const o = this.#o;
    if (this.#owedFullSync.size > 0 || !Number.isFinite(this.#lastFullSync)) return false;
    let flushed: string[];
    try {
      flushed = await flushedTables(o.iptables);
    } catch (err) {
      o.log.warn({ family: o.family, err }, "cannot read the canary chain; checking again later");
      return false;
    }
    if (flushed.length === 0) return false;
    o.metrics.canaryMissing();
    o.log.warn({ family: o.family, tables: flushed }, "the canary chain is gone or empty: someone flushed our rules; doing a full sync");
    this.#oweFullSync("canary");
    this.#queue();
    return true;
  }

  #oweFullSync(reason: FullSyncReason): void {
    this.#owedFullSync.set(reason, ++this.#fullSyncRequests);
  }

  #queue(): void {
    this.#o.health.queued(this.#o.family);
    this.#o.metrics.syncQueued(this.#o.clock.now());
    this.#runner.run();
  }

  /**
   * Works out again which Services lose a node port to an older one, logs each change, and
   * returns the Services whose lost ports changed (their rules must be written again).
   */
  #settleNodePorts(): ObjectKey[] {
    const services = [...this.#services.services()];
    const lost = lostNodePorts(services);
    const moved = lostNodePortsChanged(this.#lostNodePorts, lost);
    this.#lostNodePorts = lost;
    for (const key of moved) {
      const claims = [...(lost.get(key) ?? [])];
      if (claims.length === 0) {
        this.#o.log.info({ family: this.#o.family, service: key }, `service ${key} keeps all its node ports again`);
        continue;
      }
      const kept = claims.map((c) => `${c} (kept by ${nodePortOwner(services, c) ?? "?"}, the older)`);
      this.#o.log.warn(
        { family: this.#o.family, service: key, nodePorts: claims },
        `service ${key} claims node ports another Service holds: ${kept.join(", ")}; they are left out, the rest of ${key} is programmed`,
      );
    }
    return moved;
  }

  /**
   * One sync; the runner calls it, tests may too. Never throws for a kernel failure. The steps:
   * decide full or partial, drain the changes into the node-local state, render and restore,
   * then record what the kernel holds, report it, and delete stale conntrack entries.
   */
  async sync(): Promise<SyncReport> {
    const started = this.#o.clock.now();
    const caps = await this.#o.iptables.capabilities();
    const requests = this.#fullSyncRequests;
    const full = this.#fullSyncReasonsAt(started);
    // A sync already known to be full reads the tables while the state is built: the two
    // iptables-save processes run beside this work instead of after it.
    const tablesRead = full.length > 0 ? readTables(this.#o.iptables) : null;
    // Awaited in #readBeforeFullSync; until then (or when a throw skips it) a failure must not count as unhandled.
    tablesRead?.catch(() => undefined);
    const drained = this.#drainChanges();
    const changed = this.#updateState(caps, drained, full);
    const config = await this.#updateConfig(caps, full);
    const sync: SyncPlan = { started, full, kind: full.length > 0 ? "full" : "partial", changed, config, caps, tablesRead, ...drained };
    let restored: Restored;
    try {
      restored = await this.#renderAndRestore(sync);
    } catch (err) {
      return this.#failed(sync.kind, err, sync.triggers);
    }
    const previous = this.#programmed;
    this.#recordProgrammed(sync, restored, requests);
    const report = this.#reportSynced(sync, restored);
    this.#o.onProgrammed?.(this.#state);
    if (sync.kind === "full") this.#o.afterFullSync?.();
    await this.#staleFlows?.afterSync(previous, this.#state, sync.kind === "full" ? undefined : sync.candidates);
    return report;
  }

  /** The reasons owed from before, and the periodic one when its time has come. */
  #fullSyncReasonsAt(now: number): FullSyncReason[] {
    const full = [...this.#owedFullSync.keys()];
    if (Number.isFinite(this.#lastFullSync) && now - this.#lastFullSync >= (this.#o.fullSyncPeriodMs ?? FULL_SYNC_PERIOD_MS)) full.push("periodic");
    return full;
  }

  /** Takes the pending Service and EndpointSlice changes, and the trigger times that came with them. */
  #drainChanges(): Drained {
    const services = this.#services.drain().changed;
    const slices = this.#slices.drain().changed;
    this.#o.metrics.serviceChanges(0, services.size);
    this.#o.metrics.endpointChanges(0, slices.size);
    const triggers = this.#triggers;
    this.#triggers = new Map();
    return { candidates: new Set([...services, ...slices]), servicesChanged: services.size > 0, triggers };
  }

  /**
   * Brings the node-local state up to date: rebuilt whole when the node context changed (a full
   * sync, for "node" unless already owed), else updated for the candidates. Returns the Services
   * whose state moved; null when it was rebuilt.
   */
  #updateState(caps: IptablesCapabilities, drained: Drained, full: FullSyncReason[]): ReadonlySet<ObjectKey> | null {
    const ctx: NodeContext = { family: this.#o.family, node: { name: this.#o.nodeName, zone: this.#node?.zone ?? "", podCIDRs: this.#node?.podCIDRs ?? [] }, protocols: caps.protocols };
    const rebuild = this.#ctx === null || !isDeepStrictEqual(ctx, this.#ctx);
    // Only a Service change can move a node port's owner.
    if (rebuild || drained.servicesChanged) for (const key of this.#settleNodePorts()) drained.candidates.add(key);
    const lost = this.#lostNodePorts;
    if (rebuild) {
      if (this.#ctx !== null) addReason(full, "node");
      this.#state = buildProxyState(this.#services.services(), (k) => this.#slices.slicesFor(k), ctx, lost);
      this.#ctx = ctx;
      return null;
    }
    const lookup = (key: ObjectKey): ServiceInputs => {
      const lostNodePorts = lost.get(key);
      return { service: this.#services.get(key), slices: this.#slices.slicesFor(key), ...(lostNodePorts === undefined ? {} : { lostNodePorts }) };
    };
    const update = updateProxyState(this.#state, drained.candidates, lookup, ctx);
    this.#state = update.state;
    return update.changed;
  }

  /** The render settings for this sync; a change calls for a full sync ("config" after the first). */
  async #updateConfig(caps: IptablesCapabilities, full: FullSyncReason[]): Promise<RenderConfig> {
    const o = this.#o;
    const config = await this.#withInterfaceIPs(
      renderConfigFor({
        settings: o.settings,
        family: o.family,
        node: this.#node,
        randomFully: caps.randomFully,
        tcpBeLiberal: o.tcpBeLiberal === true,
        omitEndpointComments: totalEndpoints(this.#state) > LARGE_CLUSTER_ENDPOINTS,
      }),
    );
    if (this.#config !== null && !isDeepStrictEqual(config, this.#config)) addReason(full, "config");
    this.#config = config;
    return config;
  }

  /**
   * Renders and restores. A full sync first reads which of our chains and built-in jumps the
   * kernel holds, and sees that the canary is in place before that read or written with the
   * rules (readBeforeFullSync); a large one on iptables-nft writes the Services' chains in
   * batches before switching the top-level chains over.
   */
  async #renderAndRestore(sync: SyncPlan): Promise<Restored> {
    const o = this.#o;
    const { config } = sync;
    const batch = o.stageBatchServices ?? STAGE_BATCH_SERVICES;
    const staged = sync.kind === "full" && sync.caps.backend === "nft" && batch > 0 && this.#state.size > 2 * batch;
    const found = sync.kind === "full" ? await readBeforeFullSync(o.iptables, builtinJumpsFor(config), staged, sync.tablesRead ?? readTables(o.iptables)) : null;
    const existing = found === null ? this.#natChains : new Set([...this.#natChains, ...found.serviceChains]);
    const jumps = found?.missingJumps ?? [];
    let stagedRules = 0;
    let changed = sync.kind === "full" ? null : sync.changed;
    if (staged) {
      const keys = renderOrder(this.#state);
      for (let i = 0; i < keys.length; i += batch) {
        const part = renderServiceChains({ state: this.#state, config, keys: keys.slice(i, i + batch), cache: this.#cache });
        await o.iptables.restore(part.text);
        stagedRules += part.rules;
      }
      // Every Service's chains are in place: switch the top-level chains over in one step.
      changed = new Set();
    }
    const dispatchChains = sync.kind === "partial" ? this.#dispatchChains : undefined;
    const result = renderIptables({ state: this.#state, config, changed, existingChains: existing, dispatchChains, cache: this.#cache, canary: found?.writeCanary ?? false, insertJumps: jumps });
    await o.iptables.restore(result.text);
    return { result, stagedRules, jumps };
  }

  /** What the kernel holds now, and which owed full syncs this one settled. */
  #recordProgrammed(sync: SyncPlan, restored: Restored, requests: number): void {
    this.#programmed = this.#state;
    this.#natChains = restored.result.natChains;
    this.#dispatchChains = restored.result.dispatchChains;
    for (const [reason, request] of this.#owedFullSync) if (request <= requests) this.#owedFullSync.delete(reason);
    if (sync.kind === "full") this.#lastFullSync = sync.started;
  }

  /** Health, metrics and the log line of a successful sync. */
  #reportSynced(sync: SyncPlan, { result, stagedRules, jumps }: Restored): SyncReport {
    const o = this.#o;
    if (jumps.length > 0) o.log.info({ family: o.family, jumps: jumps.map((j) => `${j.table}/${j.chain} -> ${j.target}`) }, "jumps from the built-in chains put in place");
    const done = o.clock.now();
    o.health.updated(o.family);
    o.metrics.syncSucceeded(done);
    o.metrics.syncDuration(sync.kind, (done - sync.started) / 1000);
    const written = result.writtenRules;
    o.metrics.ruleCounts(result.ruleCounts, { filter: written.filter, nat: written.nat + stagedRules });
    o.metrics.noLocalEndpoints(...noLocalEndpoints(this.#state));
    for (const t of sync.triggers.values()) o.metrics.networkProgramming((done - t) / 1000);
    const writtenServices = stagedRules > 0 ? this.#state.size : result.writtenServices;
    o.log.info(
      { family: o.family, kind: sync.kind, reasons: sync.full, services: this.#state.size, written: writtenServices, staged: stagedRules > 0, deletedChains: result.deletedChains.length, ms: done - sync.started },
      "rules synced",
    );
    const report: SyncReport = { kind: sync.kind, ok: true, writtenServices, deletedChains: result.deletedChains.length };
    this.#last = report;
    return report;
  }

  /**
   * Adds the interface addresses when --nodeport-addresses limits node ports, read on every sync
   * as kube-proxy does, since addresses come and go. When they cannot be read, the last ones
   * read are kept (the Node's addresses before any).
   */
  async #withInterfaceIPs(config: RenderConfig): Promise<RenderConfig> {
    const read = this.#o.interfaceAddresses;
    if (read === undefined || nodePortsOnAllAddresses(config)) return config;
    try {
      return { ...config, interfaceIPs: [...(await read(this.#o.family))] };
    } catch (err) {
      this.#o.log.warn({ family: this.#o.family, err }, "cannot read the interface addresses for --nodeport-addresses; keeping the last ones known");
      return { ...config, interfaceIPs: this.#config?.interfaceIPs ?? null };
    }
  }

  #failed(kind: SyncKind, err: unknown, triggers: ReadonlyMap<ObjectKey, number>): SyncReport {
    const o = this.#o;
    this.#oweFullSync("failure");
    // The latency of these changes is measured when a later sync programs them.
    for (const [key, t] of triggers) if (!this.#triggers.has(key)) this.#triggers.set(key, t);
    if (err instanceof RestoreFailure) {
      o.metrics.restoreFailed(kind);
      o.log.error({ family: o.family, kind, err: err.message, line: err.line, input: err.context.join("\n") }, `iptables-restore failed: ${err.detail}; a full sync follows`);
    } else {
      o.log.error({ family: o.family, kind, err }, "sync failed; a full sync follows");
    }
    o.health.queued(o.family);
    this.#runner.retryAfter(o.syncPeriodMs);
    const report: SyncReport = { kind, ok: false, writtenServices: 0, deletedChains: 0 };
    this.#last = report;
    return report;
  }

}

/** The changes one sync drains. */
interface Drained {
  /** The Services whose state may have moved: changed Services, changed slices, moved node ports. */
  readonly candidates: Set<ObjectKey>;
  readonly servicesChanged: boolean;
  /** Earliest last-change-trigger-time per Service, for network programming latency. */
  readonly triggers: ReadonlyMap<ObjectKey, number>;
}

/** What one sync decided before rendering. */
interface SyncPlan extends Drained {
  readonly started: number;
  /** Why this sync is full; empty for a partial sync. */
  readonly full: readonly FullSyncReason[];
  readonly kind: SyncKind;
  /** The Services whose state moved; null when the state was rebuilt. */
  readonly changed: ReadonlySet<ObjectKey> | null;
  readonly config: RenderConfig;
  readonly caps: IptablesCapabilities;
  /** The tables' read, started before the state was built when the sync was known to be full then. */
  readonly tablesRead: Promise<SavedTables> | null;
}

interface Restored {
  readonly result: RenderResult;
  /** Rules written in batches before the final restore (a large full sync on iptables-nft). */
  readonly stagedRules: number;
  readonly jumps: readonly BuiltinJump[];
}

function addReason(reasons: FullSyncReason[], reason: FullSyncReason): void {
  if (!reasons.includes(reason)) reasons.push(reason);
}
