// Inputs for measuring signpost-dns with dnsperf (run by hand, never a pass/fail test):
// `node test/support/dns-bench.ts DIR [SERVICES]` writes DIR/objects.json, a v1 List of
// namespaces, ClusterIP Services and their EndpointSlices for offline mode, and three dnsperf
// query files: cluster names, the search-path misses of ndots:5, and names outside the zone.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scaleObjects, SERVICES_PER_NAMESPACE } from "./dns-scale-objects.ts";

// The objects come from dns-scale-objects.ts; the query generators below name its Services.
const ENDPOINTS_PER_SERVICE = 2;

/** Pseudo-random but repeatable, so two runs ask the same questions. */
function picks(count: number, seed = 7): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x >>> 8) % count;
  };
}

export function clusterQueries(services: number, lines: number): string {
  const out: string[] = [];
  const pick = picks(services);
  for (let l = 0; l < lines; l++) {
    const i = pick();
    out.push(`svc-${i}.ns-${Math.floor(i / SERVICES_PER_NAMESPACE)}.svc.cluster.local ${l % 4 === 3 ? "AAAA" : "A"}`);
  }
  return out.join("\n") + "\n";
}

/** What a pod in ns-0 sends before an outside name or another namespace's Service resolves. */
export function searchMissQueries(services: number, lines: number): string {
  const out: string[] = [];
  const pick = picks(services, 11);
  while (out.length < lines) {
    const i = pick();
    const short = i % 2 === 0 ? `svc-${i}.ns-${Math.floor(i / SERVICES_PER_NAMESPACE)}` : `www-${i}.example.test`;
    for (const suffix of ["ns-0.svc.cluster.local", "svc.cluster.local", "cluster.local"]) {
      if (short.startsWith("svc-") && suffix === "svc.cluster.local") continue; // that one is a hit
      out.push(`${short}.${suffix} A`, `${short}.${suffix} AAAA`);
    }
  }
  return out.slice(0, lines).join("\n") + "\n";
}

export function forwardQueries(names: number, lines: number): string {
  const out: string[] = [];
  const pick = picks(names, 13);
  for (let l = 0; l < lines; l++) out.push(`www-${pick()}.example.test A`);
  return out.join("\n") + "\n";
}

if (import.meta.main) {
  const dir = process.argv[2] ?? "/tmp/signpost-dns-bench";
  const services = Number(process.argv[3] ?? "10000");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "objects.json"), JSON.stringify(scaleObjects(services, ENDPOINTS_PER_SERVICE)));
  writeFileSync(join(dir, "cluster.txt"), clusterQueries(services, 100_000));
  writeFileSync(join(dir, "search-misses.txt"), searchMissQueries(services, 100_000));
  writeFileSync(join(dir, "forward.txt"), forwardQueries(1000, 100_000));
  process.stdout.write(`wrote ${services} Services and query files to ${dir}\n`);
}
