// The four kinds of query the DNS section measures, as dnsperf input files. Cluster names, the
// ndots:5 search-path misses and forwarded names come from test/support/dns-bench.ts; reverse
// lookups are PTR questions for the Services' ClusterIPs. Every file is repeatable (a fixed
// pseudo-random sequence), so both contestants get exactly the same questions.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { clusterQueries, forwardQueries, searchMissQueries } from "../../support/dns-bench.ts";
import { clusterIPOf } from "./cluster-objects.ts";

export type QueryKind = "cluster" | "search" | "reverse" | "forward";
export const QUERY_KINDS: readonly QueryKind[] = ["cluster", "search", "reverse", "forward"];

export const KIND_GROUP: Readonly<Record<QueryKind, string>> = {
  cluster: "DNS, cluster names",
  search: "DNS, search-path misses (ndots:5)",
  reverse: "DNS, reverse lookups (PTR)",
  forward: "DNS, forwarded names",
};

/** How many distinct names the upstream's test zone answers: www-0 … www-N-1.example.test. */
export const FORWARD_NAMES = 1000;
export const UPSTREAM_ZONE = "example.test";
const LINES = 100_000;

export function reverseQueries(services: number, lines: number, seed = 17): string {
  let x = seed;
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const ip = clusterIPOf((x >>> 8) % services);
    out.push(`${ip.split(".").reverse().join(".")}.in-addr.arpa PTR`);
  }
  return `${out.join("\n")}\n`;
}

export function writeQueryFiles(dir: string, services: number): Readonly<Record<QueryKind, string>> {
  const files: Record<QueryKind, string> = {
    cluster: join(dir, "queries-cluster.txt"),
    search: join(dir, "queries-search-misses.txt"),
    reverse: join(dir, "queries-reverse.txt"),
    forward: join(dir, "queries-forward.txt"),
  };
  writeFileSync(files.cluster, clusterQueries(services, LINES));
  writeFileSync(files.search, searchMissQueries(services, LINES));
  writeFileSync(files.reverse, reverseQueries(services, LINES));
  writeFileSync(files.forward, forwardQueries(FORWARD_NAMES, LINES));
  return files;
}
