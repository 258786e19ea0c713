// The watch layer against the real kube-apiserver: events arrive in order with the old object
// on updates, a throwing handler is contained, and stop() leaves nothing watching.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { Informer } from "../../pkg/kube/informer.ts";
import type { InformerEvent, RawObject } from "../../pkg/kube/object-store.ts";
import { ApiClient } from "../../pkg/kube/api-client.ts";
import { clients, createNamespace, endpointSlice, service, testLogger, kubeConfigFrom } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";

interface Seen {
  readonly name: string;
  readonly rv: string;
  readonly ports: string;
}

function seen(raw: RawObject): Seen {
  const spec = (raw as { spec?: { ports?: { port?: number }[] } }).spec;
  const slicePorts = (raw as { endpoints?: { addresses?: string[] }[] }).endpoints;
  const ports = spec?.ports?.map((p) => String(p.port)).join(",") ?? slicePorts?.map((e) => e.addresses?.join("+")).join(",") ?? "";
  return { name: raw.metadata?.name ?? "", rv: raw.metadata?.resourceVersion ?? "", ports };
}

function describeEvent(e: InformerEvent<Seen>): string {
  switch (e.type) {
    case "add":
      return `add ${e.key} ${e.object.ports}`;
    case "update":
      return `update ${e.key} ${e.old.ports}->${e.object.ports}`;
    case "delete":
      return `delete ${e.key} ${e.old.ports}`;
  }
}

const c = clients(inject("kubeconfig"));
let ns = "";
beforeAll(async () => {
  ns = await createNamespace(c.core, "events");
});
afterAll(async () => {
  await c.core.deleteNamespace({ name: ns });
});

describe("informer against kube-apiserver", () => {
  it("hands a handler registered after the list an add for each object held, then the events that follow", async () => {
    const { log } = testLogger();
    const informer = new Informer<Seen>({ name: "services", path: `/api/v1/namespaces/${ns}/services`, client: c.api, convert: seen, log });
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "early-a", 80) });
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "early-b", 81) });
    informer.start();
    await informer.synced();
    const events: string[] = [];
    informer.onEvent((e) => events.push(describeEvent(e)));
    expect(events.sort()).toEqual([`add ${ns}/early-a 80`, `add ${ns}/early-b 81`]);
    await c.core.deleteNamespacedService({ namespace: ns, name: "early-a" });
    await eventually(() => events.length === 3, "the delete after registration");
    expect(events[2]).toBe(`delete ${ns}/early-a 80`);
    await c.core.deleteNamespacedService({ namespace: ns, name: "early-b" });
    await eventually(() => events.length === 4, "the second delete");
    await informer.stop();
  });

  it("delivers creates, updates with the old object, and deletes of Services in order", async () => {
    const { log } = testLogger();
    const informer = new Informer<Seen>({ name: "services", path: `/api/v1/namespaces/${ns}/services`, client: c.api, convert: seen, log });
    const events: string[] = [];
    informer.onEvent((e) => events.push(describeEvent(e)));
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "before", 80) });
    informer.start();
    await informer.synced();
    expect(informer.hasSynced).toBe(true);
    expect(events).toEqual([`add ${ns}/before 80`]);

    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "web", 80) });
    await c.core.patchNamespacedService(
      { namespace: ns, name: "web", body: [{ op: "replace", path: "/spec/ports/0/port", value: 81 }] },
    );
    await c.core.patchNamespacedService(
      { namespace: ns, name: "web", body: [{ op: "replace", path: "/spec/ports/0/port", value: 82 }] },
    );
    await c.core.deleteNamespacedService({ namespace: ns, name: "web" });
    await eventually(() => events.length === 5, "five events");
    expect(events).toEqual([
      `add ${ns}/before 80`,
      `add ${ns}/web 80`,
      `update ${ns}/web 80->81`,
      `update ${ns}/web 81->82`,
      `delete ${ns}/web 82`,
    ]);
    expect(informer.keys()).toEqual([`${ns}/before`]);
    await informer.stop();
    expect(informer.state).toBe("stopped");
  });

  it("delivers EndpointSlice changes with the old endpoints", async () => {
    const { log } = testLogger();
    const informer = new Informer<Seen>({
      name: "endpointslices", path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, client: c.api, convert: seen, log,
    });
    const events: string[] = [];
    informer.onEvent((e) => events.push(describeEvent(e)));
    informer.start();
    await informer.synced();
    await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: endpointSlice(ns, "web-abc", "web", ["10.244.1.5"]) });
    await c.discovery.replaceNamespacedEndpointSlice({
      namespace: ns, name: "web-abc", body: endpointSlice(ns, "web-abc", "web", ["10.244.1.5", "10.244.2.7"]),
    });
    await c.discovery.deleteNamespacedEndpointSlice({ namespace: ns, name: "web-abc" });
    await eventually(() => events.length === 3, "three events");
    expect(events).toEqual([
      `add ${ns}/web-abc 10.244.1.5`,
      `update ${ns}/web-abc 10.244.1.5->10.244.1.5,10.244.2.7`,
      `delete ${ns}/web-abc 10.244.1.5,10.244.2.7`,
    ]);
    await informer.stop();
  });

  it("contains a handler that throws: the next handler and later events still arrive", async () => {
    const { log, lines } = testLogger();
    const informer = new Informer<Seen>({ name: "services", path: `/api/v1/namespaces/${ns}/services`, client: c.api, convert: seen, log });
    const events: string[] = [];
    informer.onEvent(() => {
      throw new Error("handler bug");
    });
    informer.onEvent((e) => events.push(describeEvent(e)));
    informer.start();
    await informer.synced();
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "thrower-a", 90) });
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "thrower-b", 91) });
    await eventually(() => events.includes(`add ${ns}/thrower-b 91`), "second add after a throwing handler");
    expect(events).toContain(`add ${ns}/thrower-a 90`);
    expect(lines().some((l) => l["msg"] === "event handler threw; the informer carries on")).toBe(true);
    expect(informer.state).toBe("watching");
    await informer.stop();
  });

  it("reports a malformed object by name and keeps serving the rest", async () => {
    const { log, lines } = testLogger();
    const informer = new Informer<Seen>({
      name: "services", path: `/api/v1/namespaces/${ns}/services`, client: c.api, log,
      convert: (raw) => {
        if (raw.metadata?.name === "rejected") throw new Error("spec.ports[0].port: out of range");
        return seen(raw);
      },
    });
    informer.start();
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "rejected", 100) });
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "accepted", 101) });
    await eventually(() => informer.get(`${ns}/accepted`) !== undefined, "the valid Service");
    expect(informer.get(`${ns}/rejected`)).toBeUndefined();
    const report = lines().find((l) => l["object"] === `${ns}/rejected`);
    expect(report?.["msg"]).toMatch(/failed conversion/);
    await informer.stop();
  });

  it("stops cleanly while watching: no event is delivered afterwards", async () => {
    const { log } = testLogger();
    const informer = new Informer<Seen>({ name: "services", path: `/api/v1/namespaces/${ns}/services`, client: c.api, convert: seen, log });
    const events: string[] = [];
    informer.onEvent((e) => events.push(describeEvent(e)));
    informer.start();
    await informer.synced();
    await eventually(() => informer.state === "watching", "watching");
    const before = events.length;
    await informer.stop();
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "after-stop", 80) });
    await sleep(1000);
    expect(events.length).toBe(before);
    expect(informer.state).toBe("stopped");
  });

  it("retries an unreachable API server with backoff, unready and alive, and stop() cancels the backoff", async () => {
    const { log, lines } = testLogger();
    const kc = kubeConfigFrom(inject("kubeconfig"));
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("no cluster");
    // Port 1 on loopback: nothing listens there, so every connection is refused at once.
    kc.clusters = kc.clusters.map((cl) => ({ ...cl, server: "https://127.0.0.1:1" }));
    const informer = new Informer<Seen>({
      name: "services", path: "/api/v1/services", client: new ApiClient(kc), convert: seen, log,
      backoff: { initialMs: 50, maxMs: 400, factor: 2, jitter: 0.1 },
    });
    informer.start();
    await eventually(() => lines().filter((l) => l["msg"] === "list or watch failed; retrying").length >= 4, "four retries");
    expect(informer.hasSynced).toBe(false);
    expect(informer.state).toBe("backoff");
    const delays = lines().filter((l) => l["msg"] === "list or watch failed; retrying").map((l) => Number(l["retryInMs"]));
    expect(delays[1]).toBeGreaterThan(delays[0] ?? Infinity);
    await informer.stop();
    expect(informer.state).toBe("stopped");

    // A ten-minute backoff: stop() must cancel it rather than wait it out (the test would time out).
    const patient = new Informer<Seen>({
      name: "services", path: "/api/v1/services", client: new ApiClient(kc), convert: seen, log,
      backoff: { initialMs: 600_000, maxMs: 600_000, factor: 1, jitter: 0 },
    });
    patient.start();
    await eventually(() => patient.state === "backoff", "in backoff");
    await patient.stop();
    expect(patient.state).toBe("stopped");
  });
});
