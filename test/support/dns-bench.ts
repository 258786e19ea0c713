// Inputs for measuring signpost-dns with dnsperf (run by hand, never a pass/fail test):
// `node test/support/dns-bench.ts DIR [SERVICES]` writes DIR/objects.json, a v1 List of
// namespaces, ClusterIP Services and their EndpointSlices for offline mode, and three dnsperf
// query files: cluster names, the search-path misses of ndots:5, and names outside the zone.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PER_NAMESPACE = 100;

export function benchObjects(services: number): unknown {
  const items: unknown[] = [];
  const namespaces = Math.ceil(services / PER_NAMESPACE);
  for (let n = 0; n < namespaces; n++) items.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${n}` } });
  for (let i = 0; i < services; i++) {
    const namespace = `ns-${Math.floor(i / PER_NAMESPACE)}`;
    const ip = `10.${96 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    items.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${i}`, namespace },
      spec: { type: "ClusterIP", clusterIP: ip, clusterIPs: [ip], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    });
    items.push({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `svc-${i}-abc`, namespace, labels: { "kubernetes.io/service-name": `svc-${i}` } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      endpoints: [0, 1].map((e) => ({
        addresses: [`10.${128 + Math.floor(i / 32768)}.${Math.floor((i * 2 + e) / 256) % 256}.${(i * 2 + e) % 256}`],
        conditions: { ready: true },
      })),
    });
  }
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items };
}

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
    out.push(`svc-${i}.ns-${Math.floor(i / PER_NAMESPACE)}.svc.cluster.local ${l % 4 === 3 ? "AAAA" : "A"}`);
  }
  return out.join("\n") + "\n";
}

/** What a pod in ns-0 sends before an outside name or another namespace's Service resolves. */
export function searchMissQueries(services: number, lines: number): string {
  const out: string[] = [];
  const pick = picks(services, 11);
  while (out.length < lines) {
    const i = pick();
    const short = i % 2 === 0 ? `svc-${i}.ns-${Math.floor(i / PER_NAMESPACE)}` : `www-${i}.example.test`;
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
  writeFileSync(join(dir, "objects.json"), JSON.stringify(benchObjects(services)));
  writeFileSync(join(dir, "cluster.txt"), clusterQueries(services, 100_000));
  writeFileSync(join(dir, "search-misses.txt"), searchMissQueries(services, 100_000));
  writeFileSync(join(dir, "forward.txt"), forwardQueries(1000, 100_000));
  process.stdout.write(`wrote ${services} Services and query files to ${dir}\n`);
}
