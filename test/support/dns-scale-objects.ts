// A cluster dump for measuring signpost-dns's memory by hand (never a pass/fail test):
// `node test/support/dns-scale-objects.ts FILE [SERVICES] [ENDPOINTS_PER_SERVICE]` writes a v1
// List of namespaces, ClusterIP Services and one EndpointSlice each, for offline mode
// (`bin/signpost-dns --objects FILE`). 10,000 Services of 10 endpoints is the scale signpost-dns is measured at.
import { writeFileSync } from "node:fs";

/** Services svc-I live in namespace ns-⌊I/100⌋; the query generators of dns-bench.ts rely on it. */
export const SERVICES_PER_NAMESPACE = 100;

export function scaleObjects(services: number, endpointsPerService: number): unknown {
  const items: unknown[] = [];
  for (let n = 0; n < Math.ceil(services / SERVICES_PER_NAMESPACE); n++) {
    items.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: `ns-${n}` } });
  }
  let endpointNumber = 0;
  for (let i = 0; i < services; i++) {
    const namespace = `ns-${Math.floor(i / SERVICES_PER_NAMESPACE)}`;
    const ip = `10.${96 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    items.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${i}`, namespace },
      spec: { type: "ClusterIP", clusterIP: ip, clusterIPs: [ip], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    });
    const endpoints = Array.from({ length: endpointsPerService }, () => {
      const e = endpointNumber++;
      return {
        addresses: [`10.${128 + Math.floor(e / 65536)}.${Math.floor(e / 256) % 256}.${e % 256}`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: `node-${e % 50}`,
        targetRef: { kind: "Pod", namespace, name: `svc-${i}-${e}` },
      };
    });
    items.push({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `svc-${i}-abc`, namespace, labels: { "kubernetes.io/service-name": `svc-${i}` } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      endpoints,
    });
  }
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items };
}

if (import.meta.main) {
  const [file = "/tmp/signpost-dns-scale.json", services = "10000", perService = "10"] = process.argv.slice(2);
  writeFileSync(file, JSON.stringify(scaleObjects(Number(services), Number(perService))));
  process.stdout.write(`${file}: ${services} Services of ${perService} endpoints\n`);
}
