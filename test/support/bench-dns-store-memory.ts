// What signpost-dns's record store costs in memory at the DNS benchmark's scale, without an API
// server: `node --expose-gc test/support/bench-dns-store-memory.ts [SERVICES] [ENDPOINTS]` builds
// the same Services and EndpointSlices as test/bench/dns (10,000 × 10 by default), converts them
// with the offline-mode parser, loads them into a RecordStore, and prints the V8 heap before and
// after (each after a full GC), the load time, and how many names of each shape the store holds.
// For the closing notes and for whoever works on pkg/dns's memory; never a pass/fail test.
import { RecordStore } from "../../pkg/dns/record-store.ts";
import { loadStore, storeObjects } from "../../pkg/dns/store-sync.ts";
import { parseObjects } from "../../pkg/kube/objects-file.ts";
import { namespaceOf, PER_NAMESPACE, serviceObject, sliceObject } from "../bench/dns/cluster-objects.ts";
import { reverseQueries } from "../bench/dns/query-files.ts";

const services = Number(process.argv[2] ?? "10000");
const perService = Number(process.argv[3] ?? "10");
const gc = (globalThis as { gc?: () => void }).gc ?? (() => process.stderr.write("run with --expose-gc for exact figures\n"));
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const items: unknown[] = [];
for (let n = 0; n < Math.ceil(services / PER_NAMESPACE); n++) items.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${n}` } });
for (let i = 0; i < services; i++) {
  items.push({ apiVersion: "v1", kind: "Service", ...serviceObject(i) });
  items.push({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", ...sliceObject(i, perService) });
}
const objects = storeObjects(parseObjects(JSON.stringify({ apiVersion: "v1", kind: "List", items }), "generated", ["Namespace", "Service", "EndpointSlice"]));
items.length = 0;
gc();
const before = process.memoryUsage();
const t0 = performance.now();
const store = new RecordStore({ zone: "cluster.local", pods: "insecure" });
loadStore(store, objects);
const loadMs = performance.now() - t0;
gc();
const after = process.memoryUsage();
process.stdout.write(
  `${services} Services × ${perService} endpoints: loaded in ${loadMs.toFixed(0)} ms; ` +
    `heap used ${mib(before.heapUsed)} → ${mib(after.heapUsed)} (store: ${mib(after.heapUsed - before.heapUsed)}), rss ${mib(after.rss)}\n`,
);
// How many names of each shape answer, sampled through the store's only read path.
const probe = (name: string): boolean => store.lookup(name) !== undefined;
const i = 0;
const svc = `svc-${i}.${namespaceOf(i)}.svc.cluster.local`;
const ptr = (reverseQueries(services, 1).split(" ")[0] ?? "").replace(/\.$/, "");
process.stdout.write(`service name ${probe(svc)}, SRV name ${probe(`_http._tcp.${svc}`)}, endpoint name ${probe(`10-128-0-0.${svc}`)}, ClusterIP PTR ${probe(ptr)}, endpoint PTR ${probe("0.0.128.10.in-addr.arpa")}\n`);
