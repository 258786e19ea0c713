// The protobuf decoder on bytes written field by field: the JSON shape it yields, what it
// skips, and the clear errors a corrupt message gets. Its agreement with the API server's own
// JSON, object by object, is test/integration/informer-protobuf.test.ts.
import { describe, expect, it } from "vitest";
import { bytes, envelope, fixed32, fixed64, int, map, varint, watchEvent } from "../../test/support/protobuf-writer.ts";
import { decodeObject, decodeWatchEvent, ENDPOINT_ADDRESS_FIELDS } from "./protobuf-objects.ts";
import { MalformedProtobuf, ProtobufReader } from "./protobuf-reader.ts";

const meta = (name: string, extra: Buffer[] = []) => bytes(1, bytes(1, name), bytes(3, "default"), bytes(6, "42"), ...extra);

describe("ProtobufReader", () => {
  it("reads multi-byte varints and negative int32s (10 bytes on the wire)", () => {
    const r = new ProtobufReader(Buffer.concat([varint(300), varint(2 ** 40), varint(-1), varint(-65536), varint(2 ** 31 + 5)]));
    expect(r.varint()).toBe(300);
    expect(r.varint()).toBe(2 ** 40);
    expect(r.int32()).toBe(-1);
    expect(r.int32()).toBe(-65536);
    expect(r.int32()).toBe(-(2 ** 31) + 5);
    expect(r.done).toBe(true);
  });

  it("refuses a truncated varint, a string past the end and an unknown wire type, saying where", () => {
    expect(() => new ProtobufReader(Buffer.from([0x80, 0x80])).varint()).toThrow(/varint truncated at byte 2/);
    expect(() => new ProtobufReader(Buffer.from([0x05, 0x61])).string()).toThrow(/string of 5 bytes at byte 1 runs past/);
    expect(() => new ProtobufReader(Buffer.from([0x00])).skip(3)).toThrow(MalformedProtobuf);
    expect(() => new ProtobufReader(Buffer.alloc(11, 0xff)).varint()).toThrow(/longer than 10 bytes/);
  });
});

describe("decodeObject", () => {
  it("decodes a Service into its JSON shape, skipping fields nobody reads", () => {
    const spec = Buffer.concat([
      bytes(1, bytes(1, "http"), bytes(2, "TCP"), int(3, 80), bytes(4, int(1, 0), int(2, 8080)), int(5, 30080)),
      bytes(1, bytes(1, "dns"), bytes(2, "UDP"), int(3, 53), bytes(4, int(1, 1), bytes(3, "dns-port"))),
      map(2, { app: "web" }),
      bytes(3, "10.96.0.10"),
      bytes(18, "10.96.0.10"),
      bytes(18, "fd00::10"),
      bytes(4, "NodePort"),
      bytes(7, "ClientIP"),
      bytes(14, bytes(1, int(1, 600))),
      bytes(11, ""), // an empty non-pointer string: omitted, as Go's omitempty does
      int(13, false), // a plain bool, written even when false: omitted, as in JSON
      bytes(23, "PreferClose"),
      bytes(99, "a field of a newer API"),
      fixed32(98, 7),
      fixed64(97),
    ]);
    const managedFields = bytes(17, bytes(1, "kubectl"), bytes(7, "{\"f:spec\":{}}"));
    const status = bytes(1, bytes(1, bytes(1, "192.0.2.1"), bytes(3, "VIP")), bytes(1, bytes(2, "lb.example")));
    const body = Buffer.concat([
      // uid, generation and deletionTimestamp: read by nobody, so skipped.
      meta("web", [map(11, { tier: "front", "service.kubernetes.io/service-proxy-name": "" }), bytes(8, int(1, 1_700_000_000), int(2, 500_000_000)), bytes(5, "0b5e0c1e-uid"), int(7, 3), bytes(9, int(1, 1_700_000_100)), managedFields]),
      bytes(2, spec),
      bytes(3, status),
    ]);
    expect(decodeObject(envelope("v1", "Service", body))).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "web",
        namespace: "default",
        resourceVersion: "42",
        creationTimestamp: "2023-11-14T22:13:20.500Z",
        labels: { tier: "front", "service.kubernetes.io/service-proxy-name": "" },
      },
      spec: {
        ports: [
          { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
          { name: "dns", protocol: "UDP", port: 53, targetPort: "dns-port" },
        ],
        selector: { app: "web" },
        clusterIP: "10.96.0.10",
        clusterIPs: ["10.96.0.10", "fd00::10"],
        type: "NodePort",
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        trafficDistribution: "PreferClose",
      },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }, { hostname: "lb.example" }] } },
    });
  });

  const ep = (ip: string, ready: boolean) =>
    bytes(2, bytes(1, ip), bytes(2, int(1, ready), int(2, ready), int(3, !ready)), bytes(3, ready ? "" : "db-1"), bytes(4, bytes(1, "Pod"), bytes(2, "default"), bytes(3, `pod-${ip}`), bytes(4, `uid-${ip}`)), bytes(6, "node-a"), bytes(7, "zone-1"), bytes(8, bytes(1, bytes(1, "zone-1")), bytes(2, bytes(1, "node-a"))));
  const sliceBody = Buffer.concat([
    // A slice's creationTimestamp is read by nobody (a Service's is), nor a Pod's namespace and uid in targetRef.
    meta("web-abc", [map(12, { "endpoints.kubernetes.io/last-change-trigger-time": "2026-12-05T10:00:00Z" }), bytes(8, int(1, 1_700_000_000))]),
    bytes(4, "IPv4"),
    ep("10.0.0.1", true),
    ep("10.0.0.2", false),
    bytes(3, bytes(1, "http"), bytes(2, "TCP"), int(3, 8080)),
  ]);

  it("decodes an EndpointSlice, keeping a false condition and an endpoint's hints", () => {
    const slice = decodeObject(envelope("discovery.k8s.io/v1", "EndpointSlice", sliceBody));
    expect(slice["addressType"]).toBe("IPv4");
    expect(slice["ports"]).toEqual([{ name: "http", protocol: "TCP", port: 8080 }]);
    expect(slice["endpoints"]).toEqual([
      { addresses: ["10.0.0.1"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", name: "pod-10.0.0.1" }, nodeName: "node-a", zone: "zone-1", hints: { forZones: [{ name: "zone-1" }], forNodes: [{ name: "node-a" }] } },
      { addresses: ["10.0.0.2"], conditions: { ready: false, serving: false, terminating: true }, hostname: "db-1", targetRef: { kind: "Pod", name: "pod-10.0.0.2" }, nodeName: "node-a", zone: "zone-1", hints: { forZones: [{ name: "zone-1" }], forNodes: [{ name: "node-a" }] } },
    ]);
    expect(slice["metadata"]).toEqual({ name: "web-abc", namespace: "default", resourceVersion: "42", annotations: { "endpoints.kubernetes.io/last-change-trigger-time": "2026-12-05T10:00:00Z" } });
  });

  it("with ENDPOINT_ADDRESS_FIELDS, skips where an endpoint runs and keeps the rest of the slice", () => {
    const full = decodeObject(envelope("discovery.k8s.io/v1", "EndpointSlice", sliceBody));
    const slice = decodeObject(envelope("discovery.k8s.io/v1", "EndpointSlice", sliceBody), 0, undefined, ENDPOINT_ADDRESS_FIELDS);
    expect(slice["endpoints"]).toEqual([
      { addresses: ["10.0.0.1"], conditions: { ready: true, serving: true, terminating: false } },
      { addresses: ["10.0.0.2"], conditions: { ready: false, serving: false, terminating: true }, hostname: "db-1" },
    ]);
    expect({ ...slice, endpoints: null }).toEqual({ ...full, endpoints: null });
    // Other kinds decode as with every field.
    const service = envelope("v1", "Service", meta("web", [map(11, { tier: "front" })]));
    expect(decodeObject(service, 0, undefined, ENDPOINT_ADDRESS_FIELDS)).toEqual(decodeObject(service));
  });

  it("decodes a Status, as watch ERROR events and failed requests carry it", () => {
    const body = Buffer.concat([bytes(2, "Failure"), bytes(3, "too old resource version: 5 (10)"), bytes(4, "Expired"), int(6, 410)]);
    expect(decodeObject(envelope("v1", "Status", body))).toEqual({ apiVersion: "v1", kind: "Status", status: "Failure", message: "too old resource version: 5 (10)", reason: "Expired", code: 410 });
  });

  it("refuses bytes without the prefix, a kind it does not read, and a field of the wrong wire type", () => {
    expect(() => decodeObject(Buffer.from("{\"kind\":\"Service\"}"))).toThrow(/does not start with the k8s protobuf prefix/);
    expect(() => decodeObject(envelope("v1", "ConfigMap", meta("x")))).toThrow(/kind "ConfigMap" is not one this decoder reads/);
    expect(() => decodeObject(envelope("v1", "Service", Buffer.concat([int(1, 5)])))).toThrow(/field metadata \(1\) has wire type 0/);
    const truncated = envelope("v1", "Service", meta("web"));
    expect(() => decodeObject(truncated.subarray(0, truncated.length - 3))).toThrow(MalformedProtobuf);
  });

  it("never lets a map key set an object's prototype", () => {
    const decoded = decodeObject(envelope("v1", "Service", meta("x", [map(11, { ["__proto__"]: "polluted", constructor: "c" })])));
    const labels = (decoded["metadata"] as { labels: Record<string, string> }).labels;
    expect(labels["__proto__"]).toBe("polluted");
    expect(Object.getPrototypeOf(labels)).toBe(null);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("decodeWatchEvent", () => {
  it("reads the event type and decodes its object", () => {
    const event = watchEvent("MODIFIED", envelope("v1", "Service", meta("web")));
    expect(decodeWatchEvent(event)).toEqual({ type: "MODIFIED", object: { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default", resourceVersion: "42" } } });
  });

  it("refuses an event without a type or an object", () => {
    expect(() => decodeWatchEvent(bytes(2, bytes(1, envelope("v1", "Service", meta("web")))))).toThrow(/no type/);
    expect(() => decodeWatchEvent(bytes(1, "ADDED"))).toThrow(/ADDED event has no object/);
  });
});
