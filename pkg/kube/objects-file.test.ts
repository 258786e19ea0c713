import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { describeSkipped, type ObjectKind, parseObjects, skippedKinds } from "./objects-file.ts";

const dnsKinds: readonly ObjectKind[] = ["Namespace", "Service", "EndpointSlice", "Pod"];
const proxyKinds: readonly ObjectKind[] = ["Node", "Service", "EndpointSlice"];

const yamlList = `apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: default, creationTimestamp: "2024-05-01T10:00:00Z"}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: default}
  spec:
    clusterIP: 10.96.0.7
    clusterIPs: [10.96.0.7]
    ports: [{name: http, port: 80, protocol: TCP}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: web-x1
    namespace: default
    labels: {kubernetes.io/service-name: web}
  addressType: IPv4
  endpoints: [{addresses: [10.244.1.5], conditions: {ready: true}}]
  ports: [{name: http, port: 8080, protocol: TCP}]
- apiVersion: v1
  kind: Pod
  metadata: {name: web-0, namespace: default}
  status: {podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}]}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: default}
`;

describe("parseObjects", () => {
  it("reads a v1 List as kubectl get -o yaml prints it, Pods included, skipping kinds not asked for", () => {
    const loaded = parseObjects(yamlList, "dump.yaml", dnsKinds);
    expect(loaded.namespaces.map((n) => n.name)).toEqual(["default"]);
    expect(loaded.services.map((s) => `${s.namespace}/${s.name} ${s.clusterIPs.join(",")}`)).toEqual(["default/web 10.96.0.7"]);
    expect(loaded.slices.map((s) => `${s.name}->${s.serviceName}`)).toEqual(["web-x1->web"]);
    expect(loaded.pods).toEqual([{ namespace: "default", name: "web-0", ips: ["10.244.1.5"] }]);
    expect([...skippedKinds(loaded.skipped)]).toEqual([["ConfigMap v1", 1]]);
    expect(loaded.skipped.filter((s) => s.invalid)).toEqual([]);
  });

  it("reads the same List as JSON, and several YAML documents", () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } }],
    });
    expect(parseObjects(json, "dump.json", dnsKinds).namespaces.map((n) => n.name)).toEqual(["kube-system"]);
    const documents = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n";
    expect(parseObjects(documents, "two.yaml", dnsKinds).namespaces.map((n) => n.name)).toEqual(["a", "b"]);
  });

  it("reports an object that fails conversion and keeps the others", () => {
    const text = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: default}}
- {apiVersion: v1, kind: Service, metadata: {name: broken, namespace: default}, spec: {ports: [{port: 70000}]}}
`;
    const loaded = parseObjects(text, "dump.yaml", dnsKinds);
    expect(loaded.namespaces).toHaveLength(1);
    expect(loaded.services).toHaveLength(0);
    expect(loaded.skipped.filter((s) => s.invalid).map((s) => s.reason)).toEqual([expect.stringContaining("Service default/broken")]);
  });

  it("refuses text that is not YAML and a file with no object", () => {
    expect(() => parseObjects("a: [1, 2", "bad.yaml", dnsKinds)).toThrow(/SP_BAD_CONFIG: --objects bad.yaml: is neither YAML nor JSON/);
    expect(() => parseObjects("", "empty.yaml", dnsKinds)).toThrow(/SP_BAD_CONFIG: --objects empty.yaml: holds no Kubernetes object/);
    expect(() => parseObjects('{"kind": "List", "items": []}', "none.json", dnsKinds)).toThrow(/holds no Kubernetes object/);
  });

  it("reads Nodes for the proxy and says of each skipped object where it stands, what it is and why", () => {
    const objects = parseObjects(readFileSync(new URL("../proxy/offline/testdata/cluster.yaml", import.meta.url), "utf8"), "cluster.yaml", proxyKinds);
    expect(objects.nodes.map((n) => n.name)).toEqual(["node-a", "node-b"]);
    expect(objects.services.map((s) => s.name)).toEqual(["web", "empty", "local"]);
    expect(objects.slices).toHaveLength(2);
    expect(objects.skipped.map(describeSkipped)).toEqual(["items[7] ConfigMap shop/unrelated: not a Node, Service or EndpointSlice"]);
  });

  it("names an object that fails conversion with its error", () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [{ apiVersion: "v1", kind: "Service", metadata: { name: "bad", namespace: "x" }, spec: { clusterIP: "10.96.0.1", ports: [{ port: 70000 }] } }],
    });
    const parsed = parseObjects(json, "x.json", proxyKinds);
    expect(parsed.services).toEqual([]);
    expect(parsed.skipped.map(describeSkipped)[0]).toMatch(/^items\[0\] Service x\/bad: SP_INVALID_OBJECT/);
  });
});
