import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { AutopathMetrics, createAutopath, searchList } from "./autopath.ts";
import { createQueryHandler, type ForwardRequest } from "./query-handler.ts";
import { RCODE, TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { clusterStore } from "./testing/objects.ts";

/** An upstream that knows a few names and answers NXDOMAIN for the rest; it records what it was asked. */
function upstream(known: Readonly<Record<string, string>>, asked: string[]) {
  return (request: ForwardRequest): Promise<Buffer> => {
    asked.push(request.name);
    const query = Packet.parse(request.message);
    const response = Packet.createResponseFromRequest(query);
    response.header.id = query.header.id;
    const address = known[request.name];
    if (address === undefined) response.header.rcode = RCODE.NXDOMAIN;
    else if (request.qtype === TYPE.A) response.answers.push(new Packet.Resource({ name: request.name, type: TYPE.A, class: 1, ttl: 60, address }));
    return Promise.resolve(response.toBuffer());
  };
}

function setup(options: { search?: string[]; known?: Record<string, string> } = {}) {
  const store = clusterStore({ pods: "verified" });
  store.markSynced();
  store.upsertPod({ namespace: "default", name: "client", ips: ["10.244.7.7"] });
  store.upsertPod({ namespace: "kube-system", name: "tool", ips: ["10.244.7.8"] });
  const asked: string[] = [];
  const forward = upstream(options.known ?? { "www.example.org": "192.0.2.1" }, asked);
  const metrics = new AutopathMetrics();
  const autopath = createAutopath({ store, forward, search: options.search ?? [], onSuccess: metrics.success });
  const handle = createQueryHandler({ store, forward, autopath, answerCache: null });
  const ask = async (name: string, from: string, type: number = TYPE.A) => {
    const out = await handle(queryBytes(name, type), "udp", { address: from, port: 5353 });
    if (out === null) throw new Error("dropped");
    return render(out);
  };
  return { store, asked, ask, metrics };
}

describe("autopath (server-side search path for verified Pods)", () => {
  it("answers an outside name asked under the Pod's first search domain in one query: a CNAME to it and its records", async () => {
    const { ask, asked, metrics } = setup({ search: ["corp.test"] });
    const out = await ask("www.example.org.default.svc.cluster.local", "10.244.7.7");
    expect(out).toMatchObject({
      rcode: RCODE.NOERROR,
      question: "www.example.org.default.svc.cluster.local A",
      answer: ["www.example.org.default.svc.cluster.local CNAME www.example.org", "www.example.org A 192.0.2.1"],
    });
    // The cluster names were answered from the store; the host's search domain and the bare name went upstream.
    expect(asked).toEqual(["www.example.org.corp.test", "www.example.org"]);
    expect(metrics.exposition("dns://:53")).toContain('coredns_autopath_success_total{server="dns://:53"} 1');
  });

  it("finds a Service of another namespace further down the list, from the store", async () => {
    const { ask, asked } = setup();
    const out = await ask("nginx.default.kube-system.svc.cluster.local", "10.244.7.8");
    expect(out.answer).toEqual([
      "nginx.default.kube-system.svc.cluster.local CNAME nginx.default.svc.cluster.local",
      "nginx.default.svc.cluster.local A 10.96.0.10",
    ]);
    expect(asked).toEqual([]);
  });

  it("answers a name that exists without records of the type (NODATA) with the CNAME, so the resolver stops walking", async () => {
    const { ask, asked } = setup();
    const out = await ask("www.example.org.default.svc.cluster.local", "10.244.7.7", TYPE.AAAA);
    expect(out).toMatchObject({ rcode: RCODE.NOERROR, answer: ["www.example.org.default.svc.cluster.local CNAME www.example.org"], authority: [] });
    expect(asked).toEqual(["www.example.org"]);
    // In the zone: the namespace "empty" exists, so empty.svc.cluster.local is NODATA, with the zone's SOA.
    const inZone = await ask("empty.default.svc.cluster.local", "10.244.7.7");
    expect(inZone.answer).toEqual(["empty.default.svc.cluster.local CNAME empty.svc.cluster.local"]);
    expect(inZone.authority[0]).toMatch(/^cluster\.local SOA /);
  });

  it("leaves a name that exists as asked to the plain answer, without a CNAME", async () => {
    const { ask, metrics } = setup();
    expect((await ask("nginx.default.svc.cluster.local", "10.244.7.7")).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
    expect(metrics.exposition("s")).toContain("} 0");
  });

  it("answers the plain NXDOMAIN when no name on the list exists, and counts nothing", async () => {
    const { ask, asked, metrics } = setup();
    const out = await ask("nothing.example.default.svc.cluster.local", "10.244.7.7");
    expect(out.rcode).toBe(RCODE.NXDOMAIN);
    expect(out.answer).toEqual([]);
    expect(out.authority[0]).toMatch(/^cluster\.local SOA /);
    expect(asked).toEqual(["nothing.example"]);
    expect(metrics.exposition("s")).toContain("} 0");
  });

  it("does not walk for an unknown source, a Pod of another namespace, a shared address, or a non-address type", async () => {
    const { ask, asked, store } = setup();
    const name = "www.example.org.default.svc.cluster.local";
    expect((await ask(name, "10.244.9.9")).rcode).toBe(RCODE.NXDOMAIN);
    expect((await ask(name, "10.244.7.8")).rcode).toBe(RCODE.NXDOMAIN);
    expect((await ask(name, "10.244.7.7", TYPE.TXT)).rcode).toBe(RCODE.NXDOMAIN);
    // The address given to a second Pod before the first one's deletion is seen: whose is it?
    store.upsertPod({ namespace: "default", name: "newcomer", ips: ["10.244.7.7"] });
    expect((await ask(name, "10.244.7.7")).rcode).toBe(RCODE.NXDOMAIN);
    store.deletePod("default", "client");
    expect((await ask(name, "10.244.7.7")).answer).toHaveLength(2);
    expect(asked).toEqual(["www.example.org"]);
  });

  it("reads the source address in the forms a socket gives it", () => {
    const { store } = setup();
    expect(searchList(store, "a.default.svc.cluster.local", "::ffff:10.244.7.7", ["corp.test"])).toEqual([
      "a.default.svc.cluster.local",
      "a.svc.cluster.local",
      "a.cluster.local",
      "a.corp.test",
      "a",
    ]);
    expect(searchList(store, "default.svc.cluster.local", "10.244.7.7", [])).toBeNull();
    expect(searchList(store, "a.default.svc.cluster.local", "not-an-ip", [])).toBeNull();
  });

  it("waits for the store's sync: before it the plain SERVFAIL stands", () => {
    const store = new RecordStore({ pods: "verified" });
    store.upsertNamespace({ name: "default" });
    store.upsertPod({ namespace: "default", name: "client", ips: ["10.244.7.7"] });
    const handle = createQueryHandler({ store, autopath: createAutopath({ store, search: [] }) });
    const out = handle(queryBytes("a.default.svc.cluster.local", TYPE.A), "udp", { address: "10.244.7.7", port: 1 });
    expect(out instanceof Buffer && render(out).rcode).toBe(RCODE.SERVFAIL);
  });
});
