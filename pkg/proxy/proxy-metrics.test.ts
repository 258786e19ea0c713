import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { proxyMetrics } from "./proxy-metrics.ts";

/**
 * kube-proxy v1.36.3's metrics in the iptables mode (pkg/proxy/metrics/metrics.go), with their
 * label names: dashboards and alerts written for kube-proxy select on exactly these.
 */
const kubeProxyMetrics: Record<string, readonly string[]> = {
  kubeproxy_sync_proxy_rules_duration_seconds: ["ip_family"],
  kubeproxy_sync_full_proxy_rules_duration_seconds: ["ip_family"],
  kubeproxy_sync_partial_proxy_rules_duration_seconds: ["ip_family"],
  kubeproxy_sync_proxy_rules_last_timestamp_seconds: ["ip_family"],
  kubeproxy_network_programming_duration_seconds: ["ip_family"],
  kubeproxy_sync_proxy_rules_endpoint_changes_pending: [],
  kubeproxy_sync_proxy_rules_endpoint_changes_total: [],
  kubeproxy_sync_proxy_rules_service_changes_pending: [],
  kubeproxy_sync_proxy_rules_service_changes_total: [],
  kubeproxy_sync_proxy_rules_iptables_restore_failures_total: ["ip_family"],
  kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total: ["ip_family"],
  kubeproxy_sync_proxy_rules_iptables_total: ["table", "ip_family"],
  kubeproxy_sync_proxy_rules_iptables_last: ["table", "ip_family"],
  kubeproxy_proxy_healthz_total: ["code"],
  kubeproxy_proxy_livez_total: ["code"],
  kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds: ["ip_family"],
  kubeproxy_sync_proxy_rules_no_local_endpoints_total: ["traffic_policy", "ip_family"],
  kubeproxy_conntrack_reconciler_sync_duration_seconds: ["ip_family"],
  kubeproxy_conntrack_reconciler_deleted_entries_total: ["ip_family"],
};

describe("proxyMetrics", () => {
  it("exposes kube-proxy's metric names with kube-proxy's labels, one series per family", async () => {
    const registry = new Registry();
    for (const family of ["IPv4", "IPv6"] as const) {
      const m = proxyMetrics(registry, family);
      m.syncDuration("full", 0.5);
      m.syncDuration("partial", 0.1);
      m.syncSucceeded(1_000_000);
      m.syncQueued(1_000_000);
      m.networkProgramming(1);
      m.ruleCounts({ filter: 3, nat: 10 }, { filter: 1, nat: 2 });
      m.restoreFailed("full");
      m.restoreFailed("partial");
      m.serviceChanges(0, 1);
      m.endpointChanges(0, 1);
      m.noLocalEndpoints(1, 2);
      m.conntrackDeleted(2, 0, 5);
      m.conntrackReconciled(0.01);
      m.healthz("healthz", 200);
      m.healthz("livez", 200);
    }
    const json = await registry.getMetricsAsJSON();
    for (const [name, labels] of Object.entries(kubeProxyMetrics)) {
      const metric = json.find((x) => x.name === name);
      expect(metric, name).toBeDefined();
      const series = (metric?.values ?? []).filter((v) => !("metricName" in v) || (v as { metricName?: string }).metricName?.endsWith("_count") === true);
      for (const v of series) expect(Object.keys(v.labels).sort(), name).toEqual([...labels].sort());
      if (labels.includes("ip_family")) expect(new Set(series.map((v) => v.labels["ip_family"])), name).toEqual(new Set(["IPv4", "IPv6"]));
    }
    const text = await registry.metrics();
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="nat",ip_family="IPv6"} 10');
    expect(text).toContain('kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family="IPv4"} 5');
  });
});
