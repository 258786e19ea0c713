import { describe, expect, it } from "vitest";
import { keyOf, objectKey, serviceKeyOf, slicesByService } from "./key.ts";

describe("object keys", () => {
  it("joins namespace and name as client-go does", () => {
    expect(objectKey("kube-system", "kube-dns")).toBe("kube-system/kube-dns");
    expect(keyOf({ namespace: "kube-system", name: "kube-dns" })).toBe("kube-system/kube-dns");
  });

  it("keys a slice by its Service, and a slice of no Service by nothing", () => {
    expect(serviceKeyOf({ namespace: "ns", serviceName: "web" })).toBe("ns/web");
    expect(serviceKeyOf({ namespace: "ns", serviceName: "" })).toBeNull();
  });
});

describe("slicesByService", () => {
  it("groups slices by namespace and Service, in the order given, leaving out slices of no Service", () => {
    const a = { namespace: "ns", serviceName: "web", name: "web-a" };
    const b = { namespace: "other", serviceName: "web", name: "web-b" };
    const c = { namespace: "ns", serviceName: "web", name: "web-c" };
    const orphan = { namespace: "ns", serviceName: "", name: "orphan" };
    expect([...slicesByService([a, b, orphan, c])]).toEqual([
      ["ns/web", [a, c]],
      ["other/web", [b]],
    ]);
  });
});
