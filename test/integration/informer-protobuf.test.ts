// The protobuf watch against the real kube-apiserver: for Services and EndpointSlices of every
// shape the daemons read, what the protobuf decoder yields agrees with the server's own JSON,
// field by field and once converted into pkg/model; and the informers the daemons run list and
// watch in protobuf.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { INITIAL_EVENTS_END } from "../../pkg/kube/informer.ts";
import type { RawWatchEvent, WatchEncoding } from "../../pkg/kube/api-client.ts";
import { projectedEndpointSliceInformer, serviceInformer } from "../../pkg/kube/cluster-informers.ts";
import { lastChangeTriggerTimeMs } from "../../pkg/kube/trigger-time.ts";
import type { RawObject } from "../../pkg/kube/object-store.ts";
import { convertEndpointSlice } from "../../pkg/model/convert-endpointslice.ts";
import { convertService } from "../../pkg/model/convert-service.ts";
import { clients, createNamespace, testLogger } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";

const c = clients(inject("kubeconfig"));
let ns = "";

const services = (namespace: string): V1Service[] => [
  { metadata: { name: "plain", namespace }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }], selector: { app: "plain" } } },
  {
    metadata: { name: "nodeport", namespace, labels: { "service.kubernetes.io/service-proxy-name": "signpost", tier: "front" }, annotations: { note: "ünïcode ✓" } },
    spec: { type: "NodePort", ports: [{ name: "web", port: 80, targetPort: "web-port", protocol: "TCP" }, { name: "dns", port: 53, protocol: "UDP" }], sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, externalIPs: ["192.0.2.10"], externalTrafficPolicy: "Local", internalTrafficPolicy: "Local" },
  },
  {
    metadata: { name: "lb", namespace },
    spec: { type: "LoadBalancer", ports: [{ port: 443, protocol: "TCP" }], externalTrafficPolicy: "Local", loadBalancerSourceRanges: ["192.0.2.0/24", "198.51.100.0/25"], allocateLoadBalancerNodePorts: true, trafficDistribution: "PreferClose" },
  },
  { metadata: { name: "headless", namespace }, spec: { clusterIP: "None", ports: [{ name: "db", port: 3306 }], publishNotReadyAddresses: true } },
  { metadata: { name: "external", namespace }, spec: { type: "ExternalName", externalName: "db.example.org" } },
];

const slices = (namespace: string): V1EndpointSlice[] => [
  {
    metadata: { name: "plain-1", namespace, labels: { "kubernetes.io/service-name": "plain" }, annotations: { "endpoints.kubernetes.io/last-change-trigger-time": "2026-12-05T10:00:00.123456789Z" } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }, { name: "any" }],
    endpoints: [
      { addresses: ["10.1.0.1"], conditions: { ready: true, serving: true, terminating: false }, nodeName: "node-a", zone: "z1", targetRef: { kind: "Pod", namespace, name: "plain-a" }, hints: { forZones: [{ name: "z1" }], forNodes: [{ name: "node-a" }] } },
      { addresses: ["10.1.0.2"], conditions: { ready: false, serving: true, terminating: true }, hostname: "second" },
      { addresses: ["10.1.0.3"] },
    ],
  },
  { metadata: { name: "headless-v6", namespace, labels: { "kubernetes.io/service-name": "headless" } }, addressType: "IPv6", ports: [{ name: "db", port: 3306, protocol: "TCP" }], endpoints: [{ addresses: ["fd00::1"], conditions: { ready: true } }] },
  { metadata: { name: "fqdn", namespace, labels: { "kubernetes.io/service-name": "plain" } }, addressType: "FQDN", endpoints: [{ addresses: ["backend.example.org"] }] },
];

beforeAll(async () => {
  ns = await createNamespace(c.core, "protobuf");
  for (const body of services(ns)) await c.core.createNamespacedService({ namespace: ns, body });
  for (const body of slices(ns)) await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body });
});
afterAll(async () => {
  await c.core.deleteNamespace({ name: ns });
});

/** A streamed list of `path` in one encoding: its objects by name, and how the server answered. */
async function streamedList(path: string, asked: WatchEncoding): Promise<{ objects: Map<string, RawObject>; answered: WatchEncoding[]; malformed: unknown[] }> {
  const objects = new Map<string, RawObject>();
  const answered: WatchEncoding[] = [];
  const malformed: unknown[] = [];
  let done = false;
  const stream = await c.api.watch(path, { sendInitialEvents: "true", resourceVersionMatch: "NotOlderThan", allowWatchBookmarks: "true" }, {
    onEvent: (e: RawWatchEvent, encoding) => {
      answered.push(encoding);
      const raw = e.object as RawObject & { metadata?: { annotations?: Record<string, string> } };
      if (e.type === "BOOKMARK" && raw.metadata?.annotations?.[INITIAL_EVENTS_END] === "true") done = true;
      else if (e.type === "ADDED") objects.set(raw.metadata?.name ?? "", raw);
    },
    onMalformed: (_line, err) => malformed.push(err),
  }, 30_000, asked);
  await eventually(() => done, `the initial events of ${path} (${asked})`);
  stream.abort();
  await stream.finished.catch(() => undefined);
  return { objects, answered, malformed };
}

/** Every leaf the protobuf decoder yields is the same value at the same path in the JSON. */
function agrees(fromProtobuf: unknown, fromJson: unknown, path: string, mismatches: string[]): void {
  if (fromProtobuf !== null && typeof fromProtobuf === "object") {
    if (fromJson === null || typeof fromJson !== "object") {
      mismatches.push(`${path}: protobuf has ${JSON.stringify(fromProtobuf)}, JSON ${JSON.stringify(fromJson)}`);
      return;
    }
    if (Array.isArray(fromProtobuf) && (!Array.isArray(fromJson) || fromJson.length !== fromProtobuf.length)) {
      mismatches.push(`${path}: protobuf has ${fromProtobuf.length} items, JSON ${JSON.stringify(fromJson)}`);
    }
    for (const [key, value] of Object.entries(fromProtobuf)) agrees(value, (fromJson as Record<string, unknown>)[key], `${path}.${key}`, mismatches);
    return;
  }
  const json = path.endsWith("Timestamp") && typeof fromJson === "string" ? new Date(fromJson).toISOString() : fromJson;
  if (fromProtobuf !== json) mismatches.push(`${path}: protobuf has ${JSON.stringify(fromProtobuf)}, JSON ${JSON.stringify(fromJson)}`);
}

describe("protobuf watch against kube-apiserver", () => {
  it("decodes Services as the server's JSON has them, and converts them alike", async () => {
    const path = `/api/v1/namespaces/${ns}/services`;
    const [proto, json] = await Promise.all([streamedList(path, "protobuf"), streamedList(path, "json")]);
    expect(new Set(proto.answered)).toEqual(new Set(["protobuf"]));
    expect(new Set(json.answered)).toEqual(new Set(["json"]));
    expect(proto.malformed).toEqual([]);
    expect([...proto.objects.keys()].sort()).toEqual(services(ns).map((s) => s.metadata?.name).sort());
    const mismatches: string[] = [];
    for (const [name, decoded] of proto.objects) {
      const fromJson = json.objects.get(name);
      agrees(decoded, fromJson, name, mismatches);
      expect(convertService(decoded as V1Service), name).toEqual(convertService(fromJson as V1Service));
    }
    expect(mismatches).toEqual([]);
    // What the converters read is there: a sample of it, from the protobuf side.
    const nodeport = convertService(proto.objects.get("nodeport") as V1Service);
    expect(nodeport).toMatchObject({ type: "NodePort", serviceProxyName: "signpost", externalIPs: ["192.0.2.10"], externalTrafficPolicy: "Local", sessionAffinity: { kind: "ClientIP", timeoutSeconds: 600 } });
    expect(nodeport.ports.map((p) => [p.name, p.protocol, p.port, p.nodePort > 0])).toEqual([["web", "TCP", 80, true], ["dns", "UDP", 53, true]]);
    expect(convertService(proto.objects.get("lb") as V1Service).healthCheckNodePort).toBeGreaterThan(0);
  });

  it("decodes EndpointSlices as the server's JSON has them, trigger times and false conditions included", async () => {
    const path = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
    const [proto, json] = await Promise.all([streamedList(path, "protobuf"), streamedList(path, "json")]);
    expect(new Set(proto.answered)).toEqual(new Set(["protobuf"]));
    expect(proto.malformed).toEqual([]);
    const mismatches: string[] = [];
    for (const [name, decoded] of proto.objects) {
      const fromJson = json.objects.get(name);
      agrees(decoded, fromJson, name, mismatches);
      expect(convertEndpointSlice(decoded as V1EndpointSlice), name).toEqual(convertEndpointSlice(fromJson as V1EndpointSlice));
      expect(lastChangeTriggerTimeMs(decoded)).toBe(lastChangeTriggerTimeMs(fromJson as RawObject));
    }
    expect(mismatches).toEqual([]);
    const plain = convertEndpointSlice(proto.objects.get("plain-1") as V1EndpointSlice);
    expect(plain.endpoints.map((e) => [e.addresses[0], e.ready, e.serving, e.terminating, e.hostname])).toEqual([
      ["10.1.0.1", true, true, false, ""],
      ["10.1.0.2", false, true, true, "second"],
      ["10.1.0.3", true, true, false, ""],
    ]);
    expect(lastChangeTriggerTimeMs(proto.objects.get("plain-1") as RawObject)).toBe(Date.parse("2026-12-05T10:00:00.123Z"));
  });

  it("runs the daemons' Service and EndpointSlice informers in protobuf, events included", async () => {
    const { log, lines } = testLogger();
    const deps = { client: c.api, log };
    const services = serviceInformer(deps);
    const slices = projectedEndpointSliceInformer(deps, (slice) => slice);
    const informers = [services, slices];
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((i) => i.synced()));
    const listed = lines().filter((l) => l["msg"] === "listed");
    expect(listed.map((l) => [l["informer"], l["encoding"]]).sort()).toEqual([["endpointslices", "protobuf"], ["services", "protobuf"]]);
    await c.core.patchNamespacedService({ namespace: ns, name: "plain", body: [{ op: "replace", path: "/spec/ports/0/port", value: 81 }] });
    await eventually(() => services.get(`${ns}/plain`)?.ports[0]?.port === 81, "the update, decoded from protobuf");
    // Cluster-wide informers: other tests' objects are in them too, so conversion failures count only in this namespace.
    const ours = (l: Record<string, unknown>) => typeof l["object"] === "string" && l["object"].startsWith(`${ns}/`);
    expect(lines().filter((l) => l["msg"] === "malformed watch event skipped" || (ours(l) && l["msg"] === "object ignored: it failed conversion; the last good version, if any, is kept"))).toEqual([]);
    await Promise.all(informers.map((i) => i.stop()));
  });
});
