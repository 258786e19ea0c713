import { describe, expect, it } from "vitest";
import { AnswerCache } from "./answer-cache.ts";
import { createQueryHandler, type QueryResult } from "./query-handler.ts";
import { RCODE, TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { clusterStore, service } from "./testing/objects.ts";

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

  it("keeps answers apart by type, transport and EDNS size", () => {
    const cache = new AnswerCache();
    const handle = createQueryHandler({ store: clusterStore(), answerCache: cache });
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp"));
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.AAAA), "udp"));
    sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "tcp"));
    const edns = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A, { udpSize: 1232 }), "udp"));
    expect(cache.size).toBe(4);
    expect(render(edns).udpSize).toBe(1232);
    const plain = sync(handle(queryBytes("nginx.default.svc.cluster.local", TYPE.A), "udp"));
    expect(render(plain).udpSize).toBeNull();
  });

  it("forgets everything when the store changes, so a new Service or a deletion shows at once", () => {
    const store = clusterStore();
    const handle = createQueryHandler({ store, answerCache: new AnswerCache() });
    const ask = () => render(sync(handle(queryBytes("late.default.svc.cluster.local", TYPE.A), "udp")));
    expect(ask().rcode).toBe(RCODE.NXDOMAIN);
    expect(ask().rcode).toBe(RCODE.NXDOMAIN);
    store.upsertService(service({ name: "late", clusterIPs: ["10.96.0.99"] }));
    expect(ask()).toMatchObject({ rcode: RCODE.NOERROR, answer: ["late.default.svc.cluster.local A 10.96.0.99"] });
    store.deleteService("default", "late");
    expect(ask().rcode).toBe(RCODE.NXDOMAIN);
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

  it("admits nothing past its size, and still answers what it does not keep", () => {
    const cache = new AnswerCache({ maxEntries: 2 });
    const handle = createQueryHandler({ store: clusterStore(), answerCache: cache });
    for (const name of ["nginx", "web", "dual"]) sync(handle(queryBytes(`${name}.default.svc.cluster.local`, TYPE.A), "udp"));
    expect(cache.size).toBe(2);
    const dual = render(sync(handle(queryBytes("dual.default.svc.cluster.local", TYPE.A), "udp")));
    expect(dual.answer).toEqual(["dual.default.svc.cluster.local A 10.96.0.20"]);
  });
});
