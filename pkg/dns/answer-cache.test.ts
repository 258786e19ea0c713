import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { AnswerCache } from "./answer-cache.ts";
import { createQueryHandler, type ForwardRequest, type QueryResult } from "./query-handler.ts";
import { RCODE, TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { decodeQuery, type Query } from "./query-decode.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

function sync(result: QueryResult): Buffer {
  if (!(result instanceof Buffer)) throw new Error("expected a synchronous answer");
  return result;
}

describe("the answer cache in the query handler", () => {
  it("serves a repeated question from the cache, with the asker's ID, RD bit and spelling", () => {
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store: clusterStore(), answerCache: cache });
    const first = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { id: 1 }), "udp"));
    expect(cache.size).toBe(1);
    const again = sync(handle(queryBytes("NGINX.Default.svc.cluster.local", TYPE.A, { id: 2, rd: false }), "udp"));
    expect(cache.size).toBe(1);
    expect(render(again)).toMatchObject({
      id: 2,
      flags: "qr aa",
      question: "NGINX.Default.svc.cluster.local A",
      answer: ["NGINX.Default.svc.cluster.local A 10.96.0.10"],
    });
    expect(again.subarray(12)).toHaveLength(first.length - 12);
  });

  it("keeps answers apart by type and EDNS presence, and gives each client its own EDNS size", () => {
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store: clusterStore(), answerCache: cache });
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp"));
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.AAAA), "udp"));
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "tcp"));
    const edns = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1232 }), "udp"));
    expect(cache.size).toBe(3);
    expect(render(edns).udpSize).toBe(1232);
    const other = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1000 }), "udp"));
    expect(cache.size).toBe(3);
    expect(render(other)).toMatchObject({ udpSize: 1000, answer: ["nginx.default.svc.cluster.local A 10.96.0.10"] });
    const plain = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp"));
    expect(render(plain).udpSize).toBeNull();
  });

  it("serves a kept answer only where it fits: a small client gets TC, which is not kept", () => {
    const store = new RecordStore();
    store.upsertNamespace({ name: "default" });
    store.upsertService(service({ name: "big", headless: true, clusterIPs: [] }));
    const ips = Array.from({ length: 40 }, (_, i) => `10.1.0.${i + 1}`);
    store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints: ips.map((ip) => endpoint(ip)) }));
    store.markSynced();
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store, answerCache: cache });
    const whole = render(sync(handle(queryBytes("big.default.svc.cluster.local", TYPE.A), "tcp")));
    expect(whole.answer).toHaveLength(40);
    const small = render(sync(handle(queryBytes("big.default.svc.cluster.local", TYPE.A, { id: 5 }), "udp")));
    expect(small).toMatchObject({ id: 5, flags: expect.stringContaining("tc") as unknown, answer: [] });
    const again = render(sync(handle(queryBytes("big.default.svc.cluster.local", TYPE.A, { id: 6 }), "tcp")));
    expect(again).toMatchObject({ id: 6, flags: "qr aa rd" });
    expect(again.answer).toHaveLength(40);
  });

  it("forgets only the answers of the namespace a change touched", () => {
    const store = clusterStore();
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store, answerCache: cache });
    const ask = (name: string) => render(sync(handle(queryBytes(name, TYPE.A), "udp")));
    ask("nginx.default.svc.cluster.local");
    ask("missing.default.svc.cluster.local");
    ask("dns.kube-system.svc.cluster.local");
    ask("missing.kube-system.svc.cluster.local");
    expect(cache.size).toBe(4);
    const stale = (name: string) => cache.get(queryBytes(name, TYPE.A), decoded(name), 512) === null;
    store.upsertService(service({ name: "late", clusterIPs: ["10.96.0.99"] }));
    expect(stale("nginx.default.svc.cluster.local")).toBe(true);
    expect(stale("missing.default.svc.cluster.local")).toBe(true);
    expect(stale("dns.kube-system.svc.cluster.local")).toBe(false);
    expect(stale("missing.kube-system.svc.cluster.local")).toBe(false);
  });

  it("forgets answers about a namespace that held nothing once it holds something", () => {
    const store = clusterStore();
    const handle = createQueryHandler({ store, answerCache: new AnswerCache() });
    const ask = (name: string) => render(sync(handle(queryBytes(name, TYPE.A), "udp")));
    expect(ask("web.team-new.svc.cluster.local").rcode).toBe(RCODE.NXDOMAIN);
    expect(ask("team-new.svc.cluster.local").rcode).toBe(RCODE.NXDOMAIN);
    store.upsertService(service({ name: "web", namespace: "team-new", clusterIPs: ["10.96.5.5"] }));
    expect(ask("web.team-new.svc.cluster.local").answer).toEqual(["web.team-new.svc.cluster.local A 10.96.5.5"]);
    expect(ask("team-new.svc.cluster.local").rcode).toBe(RCODE.NOERROR);
    store.deleteNamespace("team-new");
    store.deleteService("team-new", "web");
    expect(ask("web.team-new.svc.cluster.local").rcode).toBe(RCODE.NXDOMAIN);
  });

  it("forgets reverse answers when any Service's addresses change, and the apex SOA follows every change", () => {
    const store = clusterStore();
    const handle = createQueryHandler({ store, answerCache: new AnswerCache(), reverseFallthrough: false });
    const ask = (name: string, type: number) => render(sync(handle(queryBytes(name, type), "udp")));
    expect(ask("99.0.96.10.in-addr.arpa", TYPE.PTR).rcode).toBe(RCODE.NXDOMAIN);
    const serial = ask("cluster.local", TYPE.SOA).answer[0];
    store.upsertService(service({ name: "late", namespace: "kube-system", clusterIPs: ["10.96.0.99"] }));
    expect(ask("99.0.96.10.in-addr.arpa", TYPE.PTR).answer).toEqual(["99.0.96.10.in-addr.arpa PTR late.kube-system.svc.cluster.local"]);
    expect(ask("cluster.local", TYPE.SOA).answer[0]).not.toEqual(serial);
  });

  it("does not keep an answer that followed a CNAME into another namespace", () => {
    const store = clusterStore();
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store, answerCache: cache });
    store.upsertService(service({ name: "alias", type: "ExternalName", externalName: "target.kube-system.svc.cluster.local", clusterIPs: [] }));
    const ask = () => render(sync(handle(queryBytes("alias.default.svc.cluster.local", TYPE.A), "udp")));
    expect(ask().answer).toEqual(["alias.default.svc.cluster.local CNAME target.kube-system.svc.cluster.local"]);
    store.upsertService(service({ name: "target", namespace: "kube-system", clusterIPs: ["10.96.7.7"] }));
    expect(ask().answer).toEqual([
      "alias.default.svc.cluster.local CNAME target.kube-system.svc.cluster.local",
      "target.kube-system.svc.cluster.local A 10.96.7.7",
    ]);
  });

  it("does not keep an ExternalName's answer, whose target's part comes from the upstream", async () => {
    const cache = new AnswerCache();
    const asked: string[] = [];
    let upstreamUp = false;
    const forward = (request: ForwardRequest): Promise<Buffer> => {
      asked.push(request.name);
      if (!upstreamUp) return Promise.reject(new Error("upstream down"));
      const response = Packet.createResponseFromRequest(Packet.parse(request.message));
      response.answers.push(new Packet.Resource({ name: request.name, type: TYPE.A, class: 1, ttl: 60, address: "192.0.2.1" }));
      return Promise.resolve(response.toBuffer());
    };
    const handle = createQueryHandler({ store: clusterStore(), answerCache: cache, forward });
    const ask = async () => {
      const out = await handle(queryBytes("search.default.svc.cluster.local", TYPE.A), "udp");
      if (out === null) throw new Error("no answer");
      return render(out).answer;
    };
    // The target failed: the CNAME alone, a partial answer that must not be kept.
    expect(await ask()).toEqual(["search.default.svc.cluster.local CNAME search.example.org"]);
    expect(cache.size).toBe(0);
    upstreamUp = true;
    const whole = ["search.default.svc.cluster.local CNAME search.example.org", "search.example.org A 192.0.2.1"];
    expect(await ask()).toEqual(whole);
    expect(await ask()).toEqual(whole);
    expect(cache.size).toBe(0);
    expect(asked).toEqual(["search.example.org", "search.example.org", "search.example.org"]);
  });

  it("keeps nothing before the first sync, so SERVFAIL ends when the sync does", () => {
    const store = new RecordStore();
    store.upsertNamespace({ name: "default" });
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store, answerCache: cache });
    const ask = () => render(sync(handle(queryBytes("web.default.svc.cluster.local", TYPE.A), "udp")));
    expect(ask().rcode).toBe(RCODE.SERVFAIL);
    expect(cache.size).toBe(0);
    store.markSynced();
    expect(ask().rcode).toBe(RCODE.NXDOMAIN);
    expect(cache.size).toBe(1);
  });

  it("stays within its bytes, keeping the answers asked again, and counts what it drops", () => {
    const cache = new AnswerCache({ maxBytes: 16_000 });
    const handle = createQueryHandler({ store: clusterStore(), answerCache: cache });
    const ask = (name: string) => sync(handle(queryBytes(`${name}.default.svc.cluster.local`, TYPE.A), "udp"));
    for (let i = 0; i < 200; i++) {
      ask("nginx");
      ask(`miss-${i}`);
      expect(cache.bytes).toBeLessThanOrEqual(16_000);
    }
    expect(cache.size).toBeGreaterThan(10);
    expect(cache.evictions).toBeGreaterThan(100);
    expect(cache.get(queryBytes("nginx.default.svc.cluster.local", TYPE.A), decoded("nginx.default.svc.cluster.local"), 512)).not.toBeNull();
    expect(render(ask("dual")).answer).toEqual(["dual.default.svc.cluster.local A 10.96.0.20"]);
  });

  it("does not keep an answer that would take over an eighth of a half, and answers it all the same", () => {
    const store = new RecordStore();
    store.upsertNamespace({ name: "default" });
    store.upsertService(service({ name: "big", headless: true, clusterIPs: [] }));
    const ips = Array.from({ length: 60 }, (_, i) => `10.1.0.${i + 1}`);
    store.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", endpoints: ips.map((ip) => endpoint(ip)) }));
    store.markSynced();
    const cache = new AnswerCache({ maxBytes: 16_000 });
    const handle = createQueryHandler({ store, answerCache: cache });
    for (let i = 0; i < 2; i++) expect(render(sync(handle(queryBytes("big.default.svc.cluster.local", TYPE.A), "tcp"))).answer).toHaveLength(60);
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });

  it("answers only the question it holds when another question has the same key, and gives its place to the newer", () => {
    const store = clusterStore();
    const cache = new AnswerCache();
    const answer = (query: Query) => sync(createQueryHandler({ store, answerCache: null })(queryBytes(query.name, TYPE.A), "udp"));
    const nginx = decoded("nginx.default.svc.cluster.local");
    // Another name given nginx's hash: the same Map key, as a collision would make it.
    const other = { ...decoded("other.default.svc.cluster.local"), nameHash: nginx.nameHash };
    const lookup = (query: Query) => cache.get(queryBytes(query.name, TYPE.A), query, 512);
    cache.set(nginx, store.scopeOf(nginx.name), answer(nginx));
    expect(lookup(other)).toBeNull();
    expect(render(sync(lookup(nginx))).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
    cache.set(other, store.scopeOf(other.name), answer(other));
    expect(cache.size).toBe(1);
    expect(lookup(nginx)).toBeNull();
    expect(render(sync(lookup(other))).rcode).toBe(RCODE.NXDOMAIN);
  });

  it("gives back the bytes of an answer whose scope changed", () => {
    const store = clusterStore();
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store, answerCache: cache });
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp"));
    expect(cache.bytes).toBeGreaterThan(0);
    store.upsertService(service({ name: "late", clusterIPs: ["10.96.0.99"] }));
    const name = "nginx.default.svc.cluster.local";
    expect(cache.get(queryBytes(name, TYPE.A), decoded(name), 512)).toBeNull();
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });
});

function decoded(name: string): Query {
  const result = decodeQuery(queryBytes(name, TYPE.A));
  if (!result.ok) throw new Error("not a query");
  return result.query;
}
