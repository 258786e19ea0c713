import { describe, expect, it } from "vitest";
import { EndpointSliceChangeTracker, KeyedChangeTracker, ServiceChangeTracker } from "./change-tracker.ts";
import { makeEndpoint, makePort, makeService, makeSlice } from "./testing/model-builders.ts";

describe("KeyedChangeTracker", () => {
  it("keeps the applied value as previous across a burst of updates", () => {
    const t = new KeyedChangeTracker<{ v: number }>();
    t.set("a", { v: 1 });
    t.drain();
    t.set("a", { v: 2 });
    t.set("a", { v: 3 });
    const d = t.drain();
    expect(d.changes.get("a")).toEqual({ previous: { v: 1 }, current: { v: 3 } });
  });

  it("drops a change that ends where it started", () => {
    const t = new KeyedChangeTracker<{ v: number }>();
    t.set("a", { v: 1 });
    t.drain();
    t.set("a", { v: 2 });
    expect(t.set("a", { v: 1 })).toBe(false);
    expect(t.drain().changed.size).toBe(0);
  });

  it("drops an add followed by a delete", () => {
    const t = new KeyedChangeTracker<{ v: number }>();
    t.set("a", { v: 1 });
    t.set("a", null);
    expect(t.hasPending()).toBe(false);
  });

  it("reports a delete with a null current and forgets the key", () => {
    const t = new KeyedChangeTracker<{ v: number }>();
    t.set("a", { v: 1 });
    t.drain();
    t.set("a", null);
    expect(t.drain().changes.get("a")).toEqual({ previous: { v: 1 }, current: null });
    expect(t.applied("a")).toBeNull();
  });

  it("shows pending values through current() but not applied()", () => {
    const t = new KeyedChangeTracker<number>((a, b) => a === b);
    t.set("a", 1);
    expect(t.current("a")).toBe(1);
    expect(t.applied("a")).toBeNull();
  });
});

describe("ServiceChangeTracker", () => {
  it("keys Services by namespace/name and returns the changed keys", () => {
    const t = new ServiceChangeTracker();
    t.update(null, makeService("ns1", "a"));
    t.update(null, makeService("ns2", "b"));
    expect([...t.drain().changed].sort()).toEqual(["ns1/a", "ns2/b"]);
    expect(t.get("ns1/a")?.name).toBe("a");
  });

  it("ignores an update that changes nothing the proxy keeps", () => {
    const t = new ServiceChangeTracker();
    const svc = makeService("ns", "a");
    t.update(null, svc);
    t.drain();
    expect(t.update(svc, { ...svc })).toBe(false);
    expect(t.drain().changed.size).toBe(0);
  });

  it("uses its own applied state as previous, even when the event's old object is stale", () => {
    const t = new ServiceChangeTracker();
    const v1 = makeService("ns", "a", { ports: [makePort("p", 1)] });
    const v2 = makeService("ns", "a", { ports: [makePort("p", 2)] });
    t.update(null, v1);
    t.drain();
    t.update(makeService("ns", "a", { ports: [makePort("p", 99)] }), v2);
    expect(t.drain().changes.get("ns/a")?.previous).toEqual(v1);
  });

  it("handles delete events", () => {
    const t = new ServiceChangeTracker();
    const svc = makeService("ns", "a");
    t.update(null, svc);
    t.drain();
    t.update(svc, null);
    expect(t.drain().changes.get("ns/a")).toEqual({ previous: svc, current: null });
    expect([...t.services()]).toEqual([]);
  });
});

describe("EndpointSliceChangeTracker", () => {
  const s1 = makeSlice("ns", "svc", [makeEndpoint("10.0.0.1")], { name: "svc-1" });
  const s2 = makeSlice("ns", "svc", [makeEndpoint("10.0.0.2")], { name: "svc-2" });

  it("groups slices by their Service and reports the Service key", () => {
    const t = new EndpointSliceChangeTracker();
    t.update(null, s1);
    t.update(null, s2);
    const d = t.drain();
    expect([...d.changed]).toEqual(["ns/svc"]);
    expect(d.changes.get("ns/svc")).toEqual({ previous: null, current: [s1, s2] });
    expect(t.slicesFor("ns/svc")).toEqual([s1, s2]);
  });

  it("drops a burst that leaves the group as it was", () => {
    const t = new EndpointSliceChangeTracker();
    t.update(null, s1);
    t.drain();
    const changed = makeSlice("ns", "svc", [makeEndpoint("10.0.0.9")], { name: "svc-1" });
    t.update(s1, changed);
    expect(t.update(changed, s1)).toBe(false);
    expect(t.drain().changed.size).toBe(0);
  });

  it("reports the whole group before and after a slice is deleted", () => {
    const t = new EndpointSliceChangeTracker();
    t.update(null, s1);
    t.update(null, s2);
    t.drain();
    t.update(s2, null);
    expect(t.drain().changes.get("ns/svc")).toEqual({ previous: [s1, s2], current: [s1] });
  });

  it("reports a null current when the last slice goes", () => {
    const t = new EndpointSliceChangeTracker();
    t.update(null, s1);
    t.drain();
    t.update(s1, null);
    expect(t.drain().changes.get("ns/svc")?.current).toBeNull();
    expect(t.slicesFor("ns/svc")).toEqual([]);
  });

  it("moves a slice whose service-name label changed", () => {
    const t = new EndpointSliceChangeTracker();
    t.update(null, s1);
    t.drain();
    const moved = { ...s1, serviceName: "other" };
    t.update(s1, moved);
    expect([...t.drain().changed].sort()).toEqual(["ns/other", "ns/svc"]);
    expect(t.slicesFor("ns/svc")).toEqual([]);
    expect(t.slicesFor("ns/other")).toEqual([moved]);
  });

  it("ignores slices that belong to no Service", () => {
    const t = new EndpointSliceChangeTracker();
    expect(t.update(null, { ...s1, serviceName: "" })).toBe(false);
  });
});
