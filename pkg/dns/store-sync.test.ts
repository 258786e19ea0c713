import { describe, expect, it } from "vitest";
import type { InformerEvent } from "../kube/object-store.ts";
import type { Pod } from "../model/pod.ts";
import type { EndpointSlice, Namespace, Service } from "../model/types.ts";
import { answerQuestion } from "./answer.ts";
import { RCODE, TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { loadStore, syncStore, type EventSource } from "./store-sync.ts";
import { endpoint, service, slice } from "./testing/objects.ts";

/** An informer stand-in: events are pushed by the test, synced() resolves when it says so. */
class FakeSource<T> implements EventSource<T> {
  readonly #handlers: ((event: InformerEvent<T>) => void)[] = [];
  readonly #synced = Promise.withResolvers<void>();

  onEvent(handler: (event: InformerEvent<T>) => void): void {
    this.#handlers.push(handler);
  }

  synced(): Promise<void> {
    return this.#synced.promise;
  }

  emit(event: InformerEvent<T>): void {
    for (const handler of this.#handlers) handler(event);
  }

  markSynced(): void {
    this.#synced.resolve();
  }
}

function sources() {
  return {
    services: new FakeSource<Service>(),
    endpointSlices: new FakeSource<EndpointSlice>(),
    namespaces: new FakeSource<Namespace>(),
  };
}

function rcodeAndAddresses(store: RecordStore, name: string, qtype: number = TYPE.A) {
  const answer = answerQuestion(store, name, qtype);
  if (answer.kind !== "reply") return { kind: answer.kind };
  return {
    rcode: answer.rcode,
    records: answer.answer.flatMap((s) => s.records.map((r) => ("address" in r ? r.address : "target" in r ? r.target : r.type))),
  };
}

describe("syncStore", () => {
  it("answers SERVFAIL until every informer has synced, then answers from the events", async () => {
    const store = new RecordStore();
    const s = sources();
    const synced = syncStore(store, s);
    s.namespaces.emit({ type: "add", key: "default", object: { name: "default" } });
    s.services.emit({ type: "add", key: "default/web", object: service({ name: "web", clusterIPs: ["10.96.0.7"] }) });
    s.services.markSynced();
    s.namespaces.markSynced();
    await Promise.resolve();
    expect(store.synced).toBe(false);
    expect(rcodeAndAddresses(store, "missing.default.svc.cluster.local").rcode).toBe(RCODE.SERVFAIL);
    s.endpointSlices.markSynced();
    await synced;
    expect(store.synced).toBe(true);
    expect(rcodeAndAddresses(store, "web.default.svc.cluster.local")).toEqual({ rcode: RCODE.NOERROR, records: ["10.96.0.7"] });
    expect(rcodeAndAddresses(store, "missing.default.svc.cluster.local").rcode).toBe(RCODE.NXDOMAIN);
  });

  it("builds the first list's Services, then files their endpoint addresses, over the turns after the sync", async () => {
    const store = new RecordStore();
    const s = sources();
    const synced = syncStore(store, s);
    s.namespaces.emit({ type: "add", key: "default", object: { name: "default" } });
    for (let n = 0; n < 300; n++) {
      const name = `web-${n}`;
      s.services.emit({ type: "add", key: `default/${name}`, object: service({ name, clusterIPs: [`10.96.1.${n % 250}`] }) });
      const endpoints = Array.from({ length: 10 }, (_, i) => endpoint(`10.1.${n}.${i + 1}`));
      s.endpointSlices.emit({ type: "add", key: `default/${name}-1`, object: slice({ name: `${name}-1`, serviceName: name, endpoints }) });
    }
    for (const source of [s.namespaces, s.services, s.endpointSlices]) source.markSynced();
    await synced;
    // Answered at once, whether built yet or not.
    expect(store.buildSome(0)).toBe(true);
    expect(rcodeAndAddresses(store, "web-299.default.svc.cluster.local")).toEqual({ rcode: RCODE.NOERROR, records: ["10.96.1.49"] });
    for (let turn = 0; turn < 1000 && store.buildSome(0); turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(store.buildSome(0)).toBe(false);
    // 3,000 addresses: more than one turn's share, so some wait for the next turns.
    expect(store.fileAddresses(0)).toBe(true);
    for (let turn = 0; turn < 10 && store.fileAddresses(0); turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(store.fileAddresses(0)).toBe(false);
  });

  it("applies updates with the new object and deletes by the old one", async () => {
    const store = new RecordStore();
    const s = sources();
    const synced = syncStore(store, s);
    for (const source of [s.services, s.endpointSlices, s.namespaces]) source.markSynced();
    await synced;
    const before = service({ name: "db", headless: true });
    s.namespaces.emit({ type: "add", key: "default", object: { name: "default" } });
    s.services.emit({ type: "add", key: "default/db", object: before });
    const first = slice({ name: "db-1", serviceName: "db", endpoints: [endpoint("10.244.0.5")] });
    s.endpointSlices.emit({ type: "add", key: "default/db-1", object: first });
    expect(rcodeAndAddresses(store, "db.default.svc.cluster.local").records).toEqual(["10.244.0.5"]);

    const second = slice({ name: "db-1", serviceName: "db", endpoints: [endpoint("10.244.0.6")] });
    s.endpointSlices.emit({ type: "update", key: "default/db-1", old: first, object: second });
    expect(rcodeAndAddresses(store, "db.default.svc.cluster.local").records).toEqual(["10.244.0.6"]);

    const external = service({ name: "db", type: "ExternalName", externalName: "db.example.org" });
    s.services.emit({ type: "update", key: "default/db", old: before, object: external });
    expect(rcodeAndAddresses(store, "db.default.svc.cluster.local", TYPE.CNAME).records).toEqual(["db.example.org"]);

    s.services.emit({ type: "delete", key: "default/db", old: external });
    expect(rcodeAndAddresses(store, "db.default.svc.cluster.local").rcode).toBe(RCODE.NXDOMAIN);

    s.namespaces.emit({ type: "delete", key: "default", old: { name: "default" } });
    expect(store.hasNamespace("default")).toBe(false);
  });

  it("runs built once, after the sync, when the first list is built and filed", async () => {
    const store = new RecordStore();
    const s = sources();
    const seen: boolean[] = [];
    const built = new Promise<void>((resolve) => {
      void syncStore(store, s, () => {
        seen.push(store.synced, store.buildSome(0), store.fileAddresses(0));
        resolve();
      });
    });
    s.services.emit({ type: "add", key: "default/web", object: service({ name: "web", clusterIPs: ["10.96.0.7"] }) });
    s.endpointSlices.emit({ type: "add", key: "default/web-1", object: slice({ name: "web-1", serviceName: "web", endpoints: [endpoint("10.1.0.1")] }) });
    for (const source of [s.services, s.endpointSlices, s.namespaces]) source.markSynced();
    await built;
    expect(seen).toEqual([true, false, false]);
  });

  it("waits for the Pods too with pods verified, and follows them", async () => {
    const store = new RecordStore({ pods: "verified" });
    const s = { ...sources(), pods: new FakeSource<Pod>() };
    const synced = syncStore(store, s);
    for (const source of [s.services, s.endpointSlices, s.namespaces]) source.markSynced();
    s.namespaces.emit({ type: "add", key: "default", object: { name: "default" } });
    await Promise.resolve();
    expect(store.synced).toBe(false);
    const pod: Pod = { namespace: "default", name: "web-0", ips: ["10.244.3.4"] };
    s.pods.emit({ type: "add", key: "default/web-0", object: pod });
    s.pods.markSynced();
    await synced;
    expect(rcodeAndAddresses(store, "10-244-3-4.default.pod.cluster.local")).toEqual({ rcode: RCODE.NOERROR, records: ["10.244.3.4"] });
    s.pods.emit({ type: "delete", key: "default/web-0", old: pod });
    expect(rcodeAndAddresses(store, "10-244-3-4.default.pod.cluster.local").rcode).toBe(RCODE.NXDOMAIN);
  });
});

describe("loadStore", () => {
  it("loads a cluster's objects and marks the store synced", () => {
    const store = new RecordStore();
    loadStore(store, {
      namespaces: [{ name: "default" }],
      services: [service({ name: "web", clusterIPs: ["10.96.0.7"] })],
      endpointSlices: [],
    });
    expect(store.synced).toBe(true);
    expect(rcodeAndAddresses(store, "web.default.svc.cluster.local").records).toEqual(["10.96.0.7"]);
  });
});
