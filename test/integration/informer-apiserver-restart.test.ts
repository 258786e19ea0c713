// kube-apiserver is killed (SIGKILL) and restarted in the middle of a watch, with changes made
// before, during the restart and after. The watch layer must back off while the server is away,
// resume, and converge on exactly the API's state: nothing lost, nothing duplicated.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlane } from "../support/localcluster/control-plane.ts";
import { Informer } from "../../pkg/kube/informer.ts";
import type { InformerEvent, RawObject } from "../../pkg/kube/object-store.ts";
import { clients, createNamespace, service, testLogger, type TestClients } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { replay, type Versioned } from "../support/convergence.ts";

const version = (raw: RawObject): Versioned => ({ name: raw.metadata?.name ?? "", rv: raw.metadata?.resourceVersion ?? "" });

let cp: ControlPlane;
let c: TestClients;
let ns = "";
beforeAll(async () => {
  cp = await ControlPlane.start();
  c = clients(cp.kubeconfigPath);
  ns = await createNamespace(c.core, "restart");
});
afterAll(async () => {
  await cp.stop();
});

async function apiState(): Promise<Map<string, string>> {
  const list = await c.core.listNamespacedService({ namespace: ns });
  return new Map(list.items.map((s) => [`${ns}/${s.metadata?.name ?? ""}`, s.metadata?.resourceVersion ?? ""]));
}

describe("informer across a kube-apiserver crash", () => {
  it("backs off while the server is down, resumes, and converges with nothing lost or duplicated", async () => {
    const { log, lines } = testLogger();
    const informer = new Informer<Versioned>({
      name: "services", path: `/api/v1/namespaces/${ns}/services`, client: c.api, convert: version, log,
      backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 },
    });
    const events: InformerEvent<Versioned>[] = [];
    informer.onEvent((e) => events.push(e));
    for (let i = 0; i < 20; i++) await c.core.createNamespacedService({ namespace: ns, body: service(ns, `svc-${i}`) });
    informer.start();
    await informer.synced();
    await eventually(() => informer.state === "watching", "watching");

    await cp.killApiServer();
    await eventually(() => informer.state === "backoff", "informer notices the crash and backs off");
    expect(informer.hasSynced).toBe(true);
    await cp.startApiServer();

    // Changes right after the restart, racing the informer's reconnect.
    for (let i = 0; i < 5; i++) await c.core.deleteNamespacedService({ namespace: ns, name: `svc-${i}` });
    for (let i = 20; i < 30; i++) await c.core.createNamespacedService({ namespace: ns, body: service(ns, `svc-${i}`) });
    for (let i = 5; i < 10; i++) {
      await c.core.patchNamespacedService({ namespace: ns, name: `svc-${i}`, body: [{ op: "replace", path: "/spec/ports/0/port", value: 8080 }] });
    }

    const want = await apiState();
    await eventually(() => {
      const got = new Map(informer.keys().map((k) => [k, informer.get(k)?.rv ?? ""]));
      return got.size === want.size && [...want].every(([k, rv]) => got.get(k) === rv);
    }, "informer matches the API server");
    expect(replay(events)).toEqual(want);
    expect(lines().some((l) => l["msg"] === "list or watch failed; retrying")).toBe(true);
    await informer.stop();
  });
});
