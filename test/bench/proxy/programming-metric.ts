// Scrapes the network programming latency histogram both proxies export,
// kubeproxy_network_programming_duration_seconds: its _sum and _count. When exactly one
// observation was added between two scrapes, the difference of the sums is that observation,
// exact, whatever the histogram's (coarse) buckets. Over many observations the difference of
// the sums over that of the counts is their exact mean (churn.ts).
import { request } from "undici";

export const METRIC = "kubeproxy_network_programming_duration_seconds";

export interface HistogramTotals {
  readonly sum: number;
  readonly count: number;
}

/**
 * Syncs, one observation each: the count of this histogram, which both proxies export too. Its
 * IPv6 series are skipped, so a dual-stack proxy's syncs are not counted twice.
 */
export const SYNC_METRIC = "kubeproxy_sync_proxy_rules_duration_seconds";

export async function scrapeProgramming(metricsUrl: string, metric = METRIC): Promise<HistogramTotals> {
  const r = await request(metricsUrl, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await r.body.text();
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    if (metric === SYNC_METRIC && line.includes('ip_family="IPv6"')) continue;
    if (line.startsWith(`${metric}_sum`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    else if (line.startsWith(`${metric}_count`)) count += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return { sum, count };
}
