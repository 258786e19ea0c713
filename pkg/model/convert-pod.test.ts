import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { convertPod } from "./convert-pod.ts";
import { expectInvalid, sharedReferences } from "./testdata/fixtures.ts";

function pod(status: V1Pod["status"], extra: Partial<NonNullable<V1Pod["metadata"]>> = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-0", namespace: "apps", labels: { app: "web" }, uid: "u-1", ...extra },
    spec: { containers: [{ name: "web", image: "nginx" }], nodeName: "node-a" },
    status,
  };
}

describe("convertPod", () => {
  it("keeps only namespace, name and the IPs of status.podIPs", () => {
    const input = pod({ phase: "Running", podIP: "10.244.1.5", podIPs: [{ ip: "10.244.1.5" }, { ip: "fd00:10:244::5" }], hostIP: "10.0.0.1" });
    const converted = convertPod(input);
    expect(converted).toEqual({ namespace: "apps", name: "web-0", ips: ["10.244.1.5", "fd00:10:244::5"] });
    expect(Object.isFrozen(converted)).toBe(true);
    expect(Object.isFrozen(converted.ips)).toBe(true);
    expect(sharedReferences(input, converted)).toEqual([]);
  });

  it("falls back to status.podIP when podIPs is empty, and has no IPs before it gets one", () => {
    expect(convertPod(pod({ podIP: "10.244.1.6" })).ips).toEqual(["10.244.1.6"]);
    expect(convertPod(pod({ phase: "Pending" })).ips).toEqual([]);
    expect(convertPod(pod(undefined)).ips).toEqual([]);
  });

  it("drops addresses that are not IPs, and repeats", () => {
    const converted = convertPod(pod({ podIPs: [{ ip: "10.244.1.7" }, { ip: "10.244.1.7" }, { ip: "fe80::1%eth0" }, { ip: "nope" }] }));
    expect(converted.ips).toEqual(["10.244.1.7"]);
  });

  it("keeps no IPs for a Pod being deleted, whose address may soon be another Pod's", () => {
    const deleting = pod({ podIPs: [{ ip: "10.244.1.8" }] }, { deletionTimestamp: new Date("2026-01-01T00:00:00Z") });
    expect(convertPod(deleting)).toEqual({ namespace: "apps", name: "web-0", ips: [] });
  });

  it("refuses a Pod without a namespace", () => {
    expectInvalid(() => convertPod(pod({}, { namespace: "" })), "Pod <no namespace>/web-0: metadata.namespace", "missing");
  });
});
