import { describe, expect, it } from "vitest";
import { parseObjects } from "./objects-file.ts";

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
  it("reads a v1 List as kubectl get -o yaml prints it, Pods included, skipping kinds the DNS does not serve", () => {
    const loaded = parseObjects(yamlList, "dump.yaml");
    expect(loaded.namespaces.map((n) => n.name)).toEqual(["default"]);
    expect(loaded.services.map((s) => `${s.namespace}/${s.name} ${s.clusterIPs.join(",")}`)).toEqual(["default/web 10.96.0.7"]);
    expect(loaded.endpointSlices.map((s) => `${s.name}->${s.serviceName}`)).toEqual(["web-x1->web"]);
    expect(loaded.pods).toEqual([{ namespace: "default", name: "web-0", ips: ["10.244.1.5"] }]);
    expect([...loaded.skippedKinds]).toEqual([["ConfigMap v1", 1]]);
    expect(loaded.invalid).toEqual([]);
  });

  it("reads the same List as JSON, and several YAML documents", () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } }],
    });
    expect(parseObjects(json, "dump.json").namespaces.map((n) => n.name)).toEqual(["kube-system"]);
    const documents = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n";
    expect(parseObjects(documents, "two.yaml").namespaces.map((n) => n.name)).toEqual(["a", "b"]);
  });

  it("reports an object that fails conversion and keeps the others", () => {
    const text = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: default}}
- {apiVersion: v1, kind: Service, metadata: {name: broken, namespace: default}, spec: {ports: [{port: 70000}]}}
`;
    const loaded = parseObjects(text, "dump.yaml");
    expect(loaded.namespaces).toHaveLength(1);
    expect(loaded.services).toHaveLength(0);
    expect(loaded.invalid.map((e) => e.message)).toEqual([expect.stringContaining("Service default/broken")]);
  });

  it("refuses text that is not YAML and a file with no object", () => {
    expect(() => parseObjects("a: [1, 2", "bad.yaml")).toThrow(/SP_BAD_CONFIG: --objects bad.yaml: is neither YAML nor JSON/);
    expect(() => parseObjects("", "empty.yaml")).toThrow(/SP_BAD_CONFIG: --objects empty.yaml: holds no Kubernetes object/);
    expect(() => parseObjects('{"kind": "List", "items": []}', "none.json")).toThrow(/holds no Kubernetes object/);
  });
});
