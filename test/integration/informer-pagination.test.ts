// 2,000 objects arrive through the paginated list: several pages, each object once.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Informer } from "../../pkg/kube/informer.ts";
import { ApiClient } from "../../pkg/kube/api-client.ts";
import type { RawObject } from "../../pkg/kube/object-store.ts";
import { clients, createNamespace, kubeConfigFrom, testLogger } from "../support/kube.ts";

const c = clients(inject("kubeconfig"));
let ns = "";
const COUNT = 2000;

beforeAll(async () => {
  ns = await createNamespace(c.core, "pages");
  // ConfigMaps are the cheapest object to create in bulk; the list path is the same code.
  const names = Array.from({ length: COUNT }, (_, i) => `cm-${String(i).padStart(4, "0")}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map((name) => c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { i: name } } })));
  }
}, 300_000);
afterAll(async () => {
  await c.core.deleteNamespace({ name: ns });
});

class CountingClient extends ApiClient {
  pages = 0;
  override async getJson(path: string, query: Readonly<Record<string, string>>, signal: AbortSignal): Promise<unknown> {
    this.pages++;
    return super.getJson(path, query, signal);
  }
}

describe("paginated list", () => {
  it("delivers 2,000 objects through pages of 300, each exactly once", async () => {
    const { log } = testLogger();
    const client = new CountingClient(kubeConfigFrom(inject("kubeconfig")));
    const informer = new Informer<string>({
      name: "configmaps", path: `/api/v1/namespaces/${ns}/configmaps`, client, log, pageSize: 300,
      convert: (raw: RawObject) => raw.metadata?.name ?? "",
    });
    const added: string[] = [];
    informer.onEvent((e) => {
      if (e.type === "add") added.push(e.key);
    });
    informer.start();
    await informer.synced();
    const ours = added.filter((k) => k.includes("/cm-"));
    expect(ours.length).toBe(COUNT);
    expect(new Set(ours).size).toBe(COUNT);
    // kube-root-ca.crt may or may not exist without a controller manager: 2,000 or 2,001 objects.
    expect(client.pages).toBe(Math.ceil(informer.size / 300));
    await informer.stop();
  });
});
