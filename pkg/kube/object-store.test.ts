import { describe, expect, it } from "vitest";
import { ObjectStore, rawKey, type RawObject } from "./object-store.ts";

interface Small {
  readonly name: string;
  readonly port: number;
}

function svc(name: string, rv: string, port = 80, namespace = "default"): RawObject & { spec: { port: number } } {
  return { metadata: { name, namespace, resourceVersion: rv }, spec: { port } };
}

function store(invalid: string[] = []): ObjectStore<Small> {
  return new ObjectStore<Small>({
    convert: (raw) => {
      const port = (raw as { spec?: { port?: number } }).spec?.port ?? 0;
      if (port <= 0) throw new Error("bad port");
      return { name: raw.metadata?.name ?? "", port };
    },
    onInvalid: (key) => invalid.push(key),
  });
}

describe("rawKey", () => {
  it("is namespace/name, or name for cluster-scoped objects", () => {
    expect(rawKey(svc("a", "1"))).toBe("default/a");
    expect(rawKey({ metadata: { name: "node-1" } })).toBe("node-1");
    expect(rawKey({})).toBe("");
  });
});

describe("ObjectStore", () => {
  it("emits add, then update with the old object, then delete", () => {
    const s = store();
    expect(s.upsert(svc("a", "1", 80))).toEqual({ type: "add", key: "default/a", object: { name: "a", port: 80 } });
    expect(s.upsert(svc("a", "2", 81))).toEqual({
      type: "update", key: "default/a", old: { name: "a", port: 80 }, object: { name: "a", port: 81 },
    });
    expect(s.remove(svc("a", "3"))).toEqual({ type: "delete", key: "default/a", old: { name: "a", port: 81 } });
    expect(s.size).toBe(0);
  });

  it("emits nothing for a version it already holds, or a delete of what it never had", () => {
    const s = store();
    s.upsert(svc("a", "1"));
    expect(s.upsert(svc("a", "1"))).toBeNull();
    expect(s.remove(svc("b", "5"))).toBeNull();
  });

  it("keeps the last good version when an update is malformed, and reports it by key", () => {
    const invalid: string[] = [];
    const s = store(invalid);
    s.upsert(svc("a", "1", 80));
    expect(s.upsert(svc("a", "2", -1))).toBeNull();
    expect(s.get("default/a")).toEqual({ name: "a", port: 80 });
    expect(invalid).toEqual(["default/a"]);
  });

  it("reports an object without a name instead of storing it", () => {
    const invalid: string[] = [];
    const s = store(invalid);
    expect(s.upsert({ metadata: { namespace: "x" } })).toBeNull();
    expect(invalid).toEqual(["(unnamed)"]);
  });

  it("on relist adds what is new, updates what changed, deletes what vanished, and is silent on the rest", () => {
    const s = store();
    s.upsert(svc("same", "1"));
    s.upsert(svc("changed", "2", 80));
    s.upsert(svc("gone", "3"));
    const events = s.replace([svc("same", "1"), svc("changed", "7", 90), svc("new", "8")]);
    expect(events.map((e) => `${e.type} ${e.key}`).sort()).toEqual(["add default/new", "delete default/gone", "update default/changed"]);
    expect([...s.keys()].sort()).toEqual(["default/changed", "default/new", "default/same"]);
  });

  it("keepOnly deletes what a streamed list did not name, and only that", () => {
    const s = store();
    s.upsert(svc("a", "1"));
    s.upsert(svc("b", "2"));
    s.upsert(svc("c", "3"));
    const events = s.keepOnly(new Set(["default/a", "default/c", "default/never-held"]));
    expect(events).toEqual([{ type: "delete", key: "default/b", old: { name: "b", port: 80 } }]);
    expect([...s.keys()].sort()).toEqual(["default/a", "default/c"]);
    expect(s.keepOnly(new Set(["default/a", "default/c"]))).toEqual([]);
  });

  it("keeps a listed object whose new version is malformed rather than deleting it", () => {
    const s = store();
    s.upsert(svc("a", "1", 80));
    expect(s.replace([svc("a", "2", 0)])).toEqual([]);
    expect(s.get("default/a")).toEqual({ name: "a", port: 80 });
  });
});
