// The proxy's Prometheus metrics, registered on a registry the daemon hands in. Names are
// kube-proxy's (kubeproxy_ prefix) where the meaning is the same, so its dashboards and alerts
// keep working; what kube-proxy has no metric for carries the signpost_proxy_ prefix.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { IPFamily } from "../model/types.ts";

export type SyncKind = "full" | "partial";

export interface ProxyMetrics {
  syncDuration(kind: SyncKind, seconds: number): void;
  syncSucceeded(atMs: number): void;
  syncQueued(atMs: number): void;
  networkProgramming(seconds: number): void;
  ruleCounts(family: IPFamily, counts: { filter: number; nat: number }, written: { filter: number; nat: number }): void;
  restoreFailed(kind: SyncKind): void;
  serviceChanges(pending: number, added: number): void;
  endpointChanges(pending: number, added: number): void;
  noLocalEndpoints(internal: number, external: number): void;
  unprogrammableServices(count: number): void;
  conntrackDeleted(ok: number, failed: number): void;
  canaryMissing(): void;
  healthz(kind: "healthz" | "livez", code: number): void;
}

/** kube-proxy's buckets: 1 ms doubling to 16 s. */
const syncBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

/** kube-proxy's buckets for network programming latency: 0.25 s to 10 min. */
const programmingBuckets = [
  0.25, 0.5,
  ...Array.from({ length: 59 }, (_, i) => i + 1),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 10 }, (_, i) => 300 + 30 * i),
];

export function proxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  const duration = new Histogram({
    name: "kubeproxy_sync_proxy_rules_duration_seconds",
    help: "SyncProxyRules latency in seconds",
    buckets: syncBuckets,
    registers,
  });
  const fullDuration = new Histogram({
    name: "kubeproxy_sync_full_proxy_rules_duration_seconds",
    help: "SyncProxyRules latency in seconds for full resyncs",
    buckets: syncBuckets,
    registers,
  });
  const partialDuration = new Histogram({
    name: "kubeproxy_sync_partial_proxy_rules_duration_seconds",
    help: "SyncProxyRules latency in seconds for partial resyncs",
    buckets: syncBuckets,
    registers,
  });
  const lastSync = new Gauge({
    name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
    help: "The last time proxy rules were successfully synced",
    registers,
  });
  const lastQueued = new Gauge({
    name: "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
    help: "The last time a sync of proxy rules was queued",
    registers,
  });
  const programming = new Histogram({
    name: "kubeproxy_network_programming_duration_seconds",
    help: "In Cluster Network Programming Latency in seconds",
    buckets: programmingBuckets,
    registers,
  });
  const rulesTotal = new Gauge({
    name: "kubeproxy_sync_proxy_rules_iptables_total",
    help: "Total number of iptables rules owned by kube-proxy",
    labelNames: ["table"],
    registers,
  });
  const rulesLast = new Gauge({
    name: "kubeproxy_sync_proxy_rules_iptables_last",
    help: "Number of iptables rules written by kube-proxy in last sync",
    labelNames: ["table"],
    registers,
  });
  // One proxier per family reports; the gauges carry the sum, as kube-proxy's has no family label.
  const perFamily = new Map<IPFamily, { counts: { filter: number; nat: number }; written: { filter: number; nat: number } }>();
  const restoreFailures = new Counter({
    name: "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
    help: "Cumulative proxy iptables restore failures",
    registers,
  });
  const partialRestoreFailures = new Counter({
    name: "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
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
    labelNames: ["traffic_policy"],
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
  const healthzTotal = new Counter({ name: "kubeproxy_proxy_healthz_total", help: "Cumulative proxy healthz HTTP status", labelNames: ["code"], registers });
  const livezTotal = new Counter({ name: "kubeproxy_proxy_livez_total", help: "Cumulative proxy livez HTTP status", labelNames: ["code"], registers });

  return {
    syncDuration(kind, seconds) {
      duration.observe(seconds);
      (kind === "full" ? fullDuration : partialDuration).observe(seconds);
    },
    syncSucceeded(atMs) {
      lastSync.set(atMs / 1000);
    },
    syncQueued(atMs) {
      lastQueued.set(atMs / 1000);
    },
    networkProgramming(seconds) {
      programming.observe(Math.max(0, seconds));
    },
    ruleCounts(family, counts, written) {
      perFamily.set(family, { counts, written });
      for (const table of ["filter", "nat"] as const) {
        let total = 0;
        let last = 0;
        for (const f of perFamily.values()) {
          total += f.counts[table];
          last += f.written[table];
        }
        rulesTotal.set({ table }, total);
        rulesLast.set({ table }, last);
      }
    },
    restoreFailed(kind) {
      (kind === "full" ? restoreFailures : partialRestoreFailures).inc();
    },
    serviceChanges(pending, added) {
      servicePending.set(pending);
      if (added > 0) serviceTotal.inc(added);
    },
    endpointChanges(pending, added) {
      endpointPending.set(pending);
      if (added > 0) endpointTotal.inc(added);
    },
    noLocalEndpoints(internal, external) {
      noLocal.set({ traffic_policy: "internal" }, internal);
      noLocal.set({ traffic_policy: "external" }, external);
    },
    unprogrammableServices(count) {
      unprogrammable.set(count);
    },
    conntrackDeleted(ok, failed) {
      if (ok > 0) conntrack.inc({ result: "ok" }, ok);
      if (failed > 0) conntrack.inc({ result: "error" }, failed);
    },
    canaryMissing() {
      canary.inc();
    },
    healthz(kind, code) {
      (kind === "healthz" ? healthzTotal : livezTotal).inc({ code: String(code) });
    },
  };
}
