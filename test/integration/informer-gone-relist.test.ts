// The network to the API server breaks. A short break resumes the watch from the last
// resourceVersion without a relist; a long one, during which etcd is compacted, earns a 410 Gone,
// a relist, and a delete for every object that vanished meanwhile. Watch cache is off on this
// control plane so that a compacted revision reaches the client as 410 at once. The watch is in
// protobuf, as the daemons watch Services: the 410 comes as a protobuf Status.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "../support/localcluster/control-plane.ts";
import { Informer } from "../../pkg/kube/informer.ts";
import { ApiClient } from "../../pkg/kube/api-client.ts";
import type { InformerEvent, RawObject } from "../../pkg/kube/object-store.ts";
import { clients, createNamespace, service, testLogger, type TestClients } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { replay, type Versioned } from "../support/convergence.ts";
import { TcpFaultProxy } from "../support/tcp-fault-proxy.ts";

const version = (raw: RawObject): Versioned => ({ name: raw.metadata?.name ?? "", rv: raw.metadata?.resourceVersion ?? "" });

let cp: ControlPlane;
let c: TestClients;
let proxy: TcpFaultProxy;
let viaProxy: ApiClient;
let ns = "";
beforeAll(async () => {
  cp = await ControlPlane.start({ extraApiServerArgs: ["--watch-cache=false"] });
  c = clients(cp.kubeconfigPath);
  ns = await createNamespace(c.core, "gone");
  const url = new URL(cp.apiServerUrl);
  proxy = await TcpFaultProxy.start({ host: url.hostname, port: Number(url.port) });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  kc.clusters = kc.clusters.map((cl) => ({ ...cl, server: `https://127.0.0.1:${proxy.port}` }));
  viaProxy = new ApiClient(kc);
});
afterAll(async () => {
  await proxy.close();
  await cp.stop();
});

async function apiState(): Promise<Map<string, string>> {
  const list = await c.core.listNamespacedService({ namespace: ns });
  return new Map(list.items.map((s) => [`${ns}/${s.metadata?.name ?? ""}`, s.metadata?.resourceVersion ?? ""]));
}

function converged(informer: Informer<Versioned>, want: Map<string, string>): boolean {
  const keys = informer.keys();
  return keys.length === want.size && keys.every((k) => informer.get(k)?.rv === want.get(k));
}

describe("informer across network breaks and etcd compaction", () => {
  it("resumes after a reset, and relists after 410 Gone with deletes for what vanished", async () => {
    const { log, lines } = testLogger();
    const informer = new Informer<Versioned>({
      name: "services", path: `/api/v1/namespaces/${ns}/services`, client: viaProxy, convert: version, log, encoding: "protobuf",
      backoff: { initialMs: 100, maxMs: 500, factor: 2, jitter: 0.2 },
    });
    const events: InformerEvent<Versioned>[] = [];
    informer.onEvent((e) => events.push(e));
    for (let i = 0; i < 10; i++) await c.core.createNamespacedService({ namespace: ns, body: service(ns, `keep-${i}`) });
    for (let i = 0; i < 5; i++) await c.core.createNamespacedService({ namespace: ns, body: service(ns, `doomed-${i}`) });
    informer.start();
    await informer.synced();
    await eventually(() => informer.state === "watching", "watching");
    const relists = (): number => lines().filter((l) => l["msg"] === "listed").length;
    expect(relists()).toBe(1);

    // A short break: connections reset, the next watch resumes from the last resourceVersion.
    proxy.resetAll();
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "after-reset") });
    await eventually(() => informer.get(`${ns}/after-reset`) !== undefined, "change made during the reset arrives");
    expect(relists()).toBe(1);

    // A long break with compaction: the informer's resourceVersion is no longer in etcd.
    proxy.block();
    await eventually(() => informer.state === "backoff", "informer sees the break");
    for (let i = 0; i < 5; i++) await c.core.deleteNamespacedService({ namespace: ns, name: `doomed-${i}` });
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "born-in-the-dark") });
    await c.core.patchNamespacedService({ namespace: ns, name: "keep-0", body: [{ op: "replace", path: "/spec/ports/0/port", value: 8443 }] });
    const compactedAt = await cp.etcd.compact();
    expect(Number(informer.resourceVersion)).toBeLessThan(compactedAt);
    proxy.unblock();

    const want = await apiState();
    await eventually(() => converged(informer, want), "informer matches the API after the relist");
    expect(lines().some((l) => String(l["msg"]).includes("410 Gone"))).toBe(true);
    expect(relists()).toBe(2);
    const deleted = events.filter((e) => e.type === "delete").map((e) => e.key).sort();
    expect(deleted).toEqual([0, 1, 2, 3, 4].map((i) => `${ns}/doomed-${i}`));
    expect(replay(events)).toEqual(want);
    await informer.stop();
  });
});
