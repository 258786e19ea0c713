// Scrapes the network programming latency histogram both proxies export,
// kubeproxy_network_programming_duration_seconds: its _sum and _count. When exactly one
// observation was added between two scrapes, the difference of the sums is that observation,
// exact, whatever the histogram's (coarse) buckets.
import { request } from "undici";

export const METRIC = "kubeproxy_network_programming_duration_seconds";

export interface HistogramTotals {
  readonly sum: number;
  readonly count: number;
}

export async function scrapeProgramming(metricsUrl: string): Promise<HistogramTotals> {
  const r = await request(metricsUrl, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await r.body.text();
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${METRIC}_sum`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    else if (line.startsWith(`${METRIC}_count`)) count += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return { sum, count };
}
