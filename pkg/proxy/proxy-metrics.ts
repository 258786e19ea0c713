// The proxy's Prometheus metrics, registered on a registry the daemon hands in. Names and labels
// are kube-proxy v1.36's (kubeproxy_ prefix, an ip_family label where kube-proxy has one) where
// the meaning is the same, so its dashboards and alerts keep working; what kube-proxy has no
// metric for carries the signpost_proxy_ prefix. Each proxier gets a view bound to its family
// over one set of instruments per registry.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { IPFamily } from "../model/types.ts";
import { PROGRAMMING_LATENCY_BUCKETS } from "../kube/trigger-time.ts";

export type SyncKind = "full" | "partial";

export interface ProxyMetrics {
  syncDuration(kind: SyncKind, seconds: number): void;
  syncSucceeded(atMs: number): void;
  syncQueued(atMs: number): void;
  networkProgramming(seconds: number): void;
  ruleCounts(counts: { filter: number; nat: number }, written: { filter: number; nat: number }): void;
  restoreFailed(kind: SyncKind): void;
  serviceChanges(pending: number, added: number): void;
  endpointChanges(pending: number, added: number): void;
  noLocalEndpoints(internal: number, external: number): void;
  unprogrammableServices(count: number): void;
  /** One stale-flow pass: filters that worked and failed, the entries they deleted, how long it took. */
  conntrackDeleted(ok: number, failed: number, entries: number): void;
  conntrackReconciled(seconds: number): void;
  canaryMissing(): void;
  healthz(kind: "healthz" | "livez", code: number): void;
}

/** kube-proxy's buckets: 1 ms doubling to 16 s. */
const syncBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

type Instruments = ReturnType<typeof instruments>;

const byRegistry = new WeakMap<Registry, Instruments>();

/** The metrics of the proxier of one family (IPv4 unless told), on this registry. */
export function proxyMetrics(registry: Registry, family: IPFamily = "IPv4"): ProxyMetrics {
  let i = byRegistry.get(registry);
  if (i === undefined) {
    i = instruments(registry);
    byRegistry.set(registry, i);
  }
  return familyView(i, family);
}

function instruments(registry: Registry) {
  const registers = [registry];
  const labelNames = ["ip_family"];
  const duration = new Histogram({
    name: "kubeproxy_sync_proxy_rules_duration_seconds",
    labelNames,
    help: "SyncProxyRules latency in seconds",
    buckets: syncBuckets,
    registers,
  });
  const fullDuration = new Histogram({
    name: "kubeproxy_sync_full_proxy_rules_duration_seconds",
    labelNames,
    help: "SyncProxyRules latency in seconds for full resyncs",
    buckets: syncBuckets,
    registers,
  });
  const partialDuration = new Histogram({
    name: "kubeproxy_sync_partial_proxy_rules_duration_seconds",
    labelNames,
    help: "SyncProxyRules latency in seconds for partial resyncs",
    buckets: syncBuckets,
    registers,
  });
  const lastSync = new Gauge({
    name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
    labelNames,
    help: "The last time proxy rules were successfully synced",
    registers,
  });
  const lastQueued = new Gauge({
    name: "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
    labelNames,
    help: "The last time a sync of proxy rules was queued",
    registers,
  });
  const programming = new Histogram({
    name: "kubeproxy_network_programming_duration_seconds",
    labelNames,
    help: "In Cluster Network Programming Latency in seconds",
    buckets: [...PROGRAMMING_LATENCY_BUCKETS],
    registers,
  });
  const rulesTotal = new Gauge({
    name: "kubeproxy_sync_proxy_rules_iptables_total",
    help: "Total number of iptables rules owned by kube-proxy",
    labelNames: ["table", "ip_family"],
    registers,
  });
  const rulesLast = new Gauge({
    name: "kubeproxy_sync_proxy_rules_iptables_last",
    help: "Number of iptables rules written by kube-proxy in last sync",
    labelNames: ["table", "ip_family"],
    registers,
  });
  const restoreFailures = new Counter({
    name: "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
    labelNames,
    help: "Cumulative proxy iptables restore failures",
    registers,
  });
  const partialRestoreFailures = new Counter({
    name: "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
    labelNames,
    help: "Cumulative proxy iptables partial restore failures",
    registers,
  });
  const servicePending = new Gauge({ name: "kubeproxy_sync_proxy_rules_service_changes_pending", help: "Pending proxy rules Service changes", registers });
  const serviceTotal = new Counter({ name: "kubeproxy_sync_proxy_rules_service_changes_total", help: "Cumulative proxy rules Service changes", registers });
  const endpointPending = new Gauge({ name: "kubeproxy_sync_proxy_rules_endpoint_changes_pending", help: "Pending proxy rules Endpoint changes", registers });
  const endpointTotal = new Counter({ name: "kubeproxy_sync_proxy_rules_endpoint_changes_total", help: "Cumulative proxy rules Endpoint changes", registers });
  const noLocal = new Gauge({
    name: "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
    help: "Number of services with a Local traffic policy and no endpoints",
    labelNames: ["traffic_policy", "ip_family"],
    registers,
  });
  const unprogrammable = new Gauge({
    name: "signpost_proxy_unprogrammable_services",
    help: "Services left out in whole or in part because this node cannot program them (see the log for the reason)",
    registers,
  });
  const conntrack = new Counter({
    name: "signpost_proxy_conntrack_deletions_total",
    help: "Stale UDP conntrack deletions, by result",
    labelNames: ["result"],
    registers,
  });
  const canary = new Counter({
    name: "signpost_proxy_canary_missing_total",
    help: "Syncs that found the canary chain gone or emptied: someone flushed the tables",
    registers,
  });
  const reconcilerDuration = new Histogram({
    name: "kubeproxy_conntrack_reconciler_sync_duration_seconds",
    help: "ReconcileConntrackFlowsLatency latency in seconds",
    labelNames,
    buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
    registers,
  });
  const reconcilerDeleted = new Counter({
    name: "kubeproxy_conntrack_reconciler_deleted_entries_total",
    help: "Cumulative conntrack flows deleted by conntrack reconciler",
    labelNames,
    registers,
  });
  const healthzTotal = new Counter({ name: "kubeproxy_proxy_healthz_total", help: "Cumulative proxy healthz HTTP status", labelNames: ["code"], registers });
  const livezTotal = new Counter({ name: "kubeproxy_proxy_livez_total", help: "Cumulative proxy livez HTTP status", labelNames: ["code"], registers });

  return {
    duration, fullDuration, partialDuration, lastSync, lastQueued, programming, rulesTotal, rulesLast, restoreFailures, partialRestoreFailures,
    servicePending, serviceTotal, endpointPending, endpointTotal, noLocal, unprogrammable, conntrack, canary, reconcilerDuration, reconcilerDeleted, healthzTotal, livezTotal,
  };
}

function familyView(i: Instruments, family: IPFamily): ProxyMetrics {
  const ip_family = family;
  return {
    syncDuration(kind, seconds) {
      i.duration.observe({ ip_family }, seconds);
      (kind === "full" ? i.fullDuration : i.partialDuration).observe({ ip_family }, seconds);
    },
    syncSucceeded(atMs) {
      i.lastSync.set({ ip_family }, atMs / 1000);
    },
    syncQueued(atMs) {
      i.lastQueued.set({ ip_family }, atMs / 1000);
    },
    networkProgramming(seconds) {
      i.programming.observe({ ip_family }, Math.max(0, seconds));
    },
    ruleCounts(counts, written) {
      for (const table of ["filter", "nat"] as const) {
        i.rulesTotal.set({ table, ip_family }, counts[table]);
        i.rulesLast.set({ table, ip_family }, written[table]);
      }
    },
    restoreFailed(kind) {
      (kind === "full" ? i.restoreFailures : i.partialRestoreFailures).inc({ ip_family });
    },
    // kube-proxy's change counters and pending gauges have no family: both proxiers see every change.
    serviceChanges(pending, added) {
      i.servicePending.set(pending);
      if (added > 0) i.serviceTotal.inc(added);
    },
    endpointChanges(pending, added) {
      i.endpointPending.set(pending);
      if (added > 0) i.endpointTotal.inc(added);
    },
    noLocalEndpoints(internal, external) {
      i.noLocal.set({ traffic_policy: "internal", ip_family }, internal);
      i.noLocal.set({ traffic_policy: "external", ip_family }, external);
    },
    unprogrammableServices(count) {
      i.unprogrammable.set(count);
    },
    conntrackDeleted(ok, failed, entries) {
      if (ok > 0) i.conntrack.inc({ result: "ok" }, ok);
      if (failed > 0) i.conntrack.inc({ result: "error" }, failed);
      if (entries > 0) i.reconcilerDeleted.inc({ ip_family }, entries);
    },
    conntrackReconciled(seconds) {
      i.reconcilerDuration.observe({ ip_family }, seconds);
    },
    canaryMissing() {
      i.canary.inc();
    },
    healthz(kind, code) {
      (kind === "healthz" ? i.healthzTotal : i.livezTotal).inc({ code: String(code) });
    },
  };
}
