import { describe, expect, it } from "vitest";
import { answerQuestion } from "./answer.ts";
import { DEFAULT_CLUSTER_OPTIONS } from "./config/cluster-options.ts";
import { parseDnsConfigFile } from "./config/dns-config-file.ts";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { bytes, envelope, int } from "../../test/support/protobuf-writer.ts";
import { decodeObject } from "../kube/protobuf-objects.ts";
import { convertEndpointSlice } from "../model/convert-endpointslice.ts";
import { sliceFields, sliceProjection, storeScope } from "./cluster-scope.ts";
import { RCODE, TYPE } from "./records.ts";
import { ReverseZones } from "./reverse-zones.ts";
import { answerLines } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

const ask = (store: ReturnType<typeof clusterStore>, name: string, type: number = TYPE.A, reverseZones?: ReverseZones) =>
  answerLines(answerQuestion(store, name, type, reverseZones === undefined ? {} : { reverseZones }));

describe("cluster options", () => {
  it("serves only the listed namespaces: others are NXDOMAIN, their PTRs go upstream", () => {
    const store = clusterStore(storeScope({ ...DEFAULT_CLUSTER_OPTIONS, namespaces: ["default"] }));
    store.upsertService(service({ name: "dns", namespace: "kube-system", clusterIPs: ["10.96.0.53"] }));
    expect(ask(store, "nginx.default.svc.cluster.local").answer).toEqual(["@ A 10.96.0.10"]);
    expect(ask(store, "dns.kube-system.svc.cluster.local")).toMatchObject({ rcode: RCODE.NXDOMAIN });
    expect(ask(store, "kube-system.svc.cluster.local")).toMatchObject({ rcode: RCODE.NXDOMAIN });
    expect(ask(store, "10-0-0-1.kube-system.pod.cluster.local")).toMatchObject({ rcode: RCODE.NXDOMAIN });
    expect(ask(store, "53.0.96.10.in-addr.arpa", TYPE.PTR)).toEqual({ kind: "forward" });
  });

  it("keeps no endpoint records with noEndpoints: endpoint names and headless Services are NXDOMAIN", () => {
    const store = clusterStore(storeScope({ ...DEFAULT_CLUSTER_OPTIONS, noEndpoints: true }));
    expect(ask(store, "nginx.default.svc.cluster.local").answer).toEqual(["@ A 10.96.0.10"]);
    expect(ask(store, "_http._tcp.nginx.default.svc.cluster.local", TYPE.SRV).answer).toEqual(["@ SRV 0 100 80 nginx.default.svc.cluster.local"]);
    expect(ask(store, "web.default.svc.cluster.local")).toMatchObject({ rcode: RCODE.NXDOMAIN });
    expect(ask(store, "web-0.web.default.svc.cluster.local")).toMatchObject({ rcode: RCODE.NXDOMAIN });
    expect(ask(store, "5.1.244.10.in-addr.arpa", TYPE.PTR)).toEqual({ kind: "forward" });
  });

  it("names endpoints without a hostname by their Pod with endpointPodNames, as CoreDNS's endpoint_pod_names", () => {
    const project = sliceProjection({ ...DEFAULT_CLUSTER_OPTIONS, endpointPodNames: true });
    const store = clusterStore();
    store.upsertService(service({ name: "db", headless: true }));
    store.upsertEndpointSlice(
      project(slice({ name: "db-1", serviceName: "db", endpoints: [endpoint("10.244.5.1", { podName: "db-7f9c" }), endpoint("10.244.5.2", { hostname: "db-0", podName: "db-abc" }), endpoint("10.244.5.3", { podName: "a.b" })] })),
    );
    expect(ask(store, "db-7f9c.db.default.svc.cluster.local").answer).toEqual(["@ A 10.244.5.1"]);
    expect(ask(store, "db-0.db.default.svc.cluster.local").answer).toEqual(["@ A 10.244.5.2"]);
    expect(ask(store, "10-244-5-3.db.default.svc.cluster.local").answer).toEqual(["@ A 10.244.5.3"]);
    expect(ask(store, "1.5.244.10.in-addr.arpa", TYPE.PTR).answer).toEqual(["@ PTR db-7f9c.db.default.svc.cluster.local"]);
    expect(ask(store, "10-244-5-1.db.default.svc.cluster.local")).toMatchObject({ rcode: RCODE.NXDOMAIN });
  });

  it("answers PTR only inside the reverse CIDRs, and NXDOMAIN there for unknown addresses without fallthrough", () => {
    const store = clusterStore();
    const zones = new ReverseZones(["10.96.0.0/12"], []);
    expect(ask(store, "10.0.96.10.in-addr.arpa", TYPE.PTR, zones).answer).toEqual(["@ PTR nginx.default.svc.cluster.local"]);
    expect(ask(store, "99.0.96.10.in-addr.arpa", TYPE.PTR, zones)).toMatchObject({ rcode: RCODE.NXDOMAIN });
    // An endpoint's address outside the CIDRs is not the cluster's to answer.
    expect(ask(store, "10.1.244.10.in-addr.arpa", TYPE.PTR, zones)).toEqual({ kind: "forward" });
    expect(ask(store, "99.0.96.10.in-addr.arpa", TYPE.PTR, new ReverseZones(["10.96.0.0/12"], ["in-addr.arpa"]))).toEqual({ kind: "forward" });
    expect(ask(store, "96.10.in-addr.arpa", TYPE.PTR, zones)).toEqual({ kind: "forward" });
    expect(ask(store, "10.0.96.10.in-addr.arpa", TYPE.PTR, new ReverseZones([], []))).toEqual({ kind: "forward" });
  });

  it("reads the options in the cluster section and refuses bad ones by their fields", () => {
    const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
    const c = parseDnsConfigFile(`${head}cluster:\n  namespaces: [default]\n  endpointPodNames: true\n  noEndpoints: false\n  reverseCIDRs: [10.96.0.0/12, "fd00:10:96::/112"]\n  fallthrough: [ip6.arpa]\n`, "dns.yaml");
    expect(c.cluster).toEqual({ namespaces: ["default"], endpointPodNames: true, noEndpoints: false, reverseCIDRs: ["10.96.0.0/12", "fd00:10:96::/112"], fallthrough: ["ip6.arpa"] });
    expect(() => parseDnsConfigFile(`${head}cluster:\n  reverseCIDRs: [10.96.0.0/33]\n`, "dns.yaml")).toThrow("SP_BAD_CONFIG: dns.yaml: cluster.reverseCIDRs[0]: \"10.96.0.0/33\" is not a CIDR");
    expect(() => parseDnsConfigFile(`${head}cluster:\n  fallthrough: [cluster.local]\n`, "dns.yaml")).toThrow("cluster.fallthrough[0]: \"cluster.local\" is not a reverse zone");
    expect(() => parseDnsConfigFile(`${head}cluster:\n  namespaces: [Default]\n`, "dns.yaml")).toThrow("cluster.namespaces[0]: \"Default\" is not a namespace name");
  });

  it("projects a slice decoded with only sliceFields as one decoded whole, with and without endpointPodNames", () => {
    const ep = (ip: string, ready: boolean, hostname: string) =>
      bytes(2, bytes(1, ip), bytes(2, int(1, ready), int(2, ready), int(3, !ready)), bytes(3, hostname), bytes(4, bytes(1, "Pod"), bytes(2, "default"), bytes(3, `db-${ip.slice(-1)}`)), bytes(6, "node-a"), bytes(7, "zone-1"));
    const body = Buffer.concat([bytes(1, bytes(1, "db-abc"), bytes(3, "default"), bytes(6, "7"), bytes(11, bytes(1, "kubernetes.io/service-name"), bytes(2, "db"))), bytes(4, "IPv4"), ep("10.244.5.1", true, ""), ep("10.244.5.2", false, "db-0"), bytes(3, bytes(1, "tcp"), bytes(2, "TCP"), int(3, 5432))]);
    const object = envelope("discovery.k8s.io/v1", "EndpointSlice", body);
    for (const endpointPodNames of [false, true]) {
      const options = { ...DEFAULT_CLUSTER_OPTIONS, endpointPodNames };
      const project = sliceProjection(options);
      const whole = project(convertEndpointSlice(decodeObject(object) as unknown as V1EndpointSlice));
      const trimmed = project(convertEndpointSlice(decodeObject(object, 0, undefined, sliceFields(options)) as unknown as V1EndpointSlice));
      expect(trimmed).toEqual(whole);
      expect(whole.endpoints[0]).toEqual(endpointPodNames ? { addresses: ["10.244.5.1"], ready: true, hostname: "db-1" } : "10.244.5.1");
    }
  });
});
