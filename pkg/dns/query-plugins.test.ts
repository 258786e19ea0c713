import { Packet } from "dns2";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { parseRewriteRules } from "./config/rewrite-config.ts";
import { HostsSource } from "./hosts-source.ts";
import { createQueryHandler, type ForwardRequest } from "./query-handler.ts";
import { NO_PLUGINS, type QueryPlugins, withPlugins } from "./query-plugins.ts";
import { RCODE, TYPE } from "./records.ts";
import { RoundRobin } from "./round-robin.ts";
import { queryBytes, render } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

/** An upstream answering A with a CNAME to cdn.example.net and its two addresses, names compressed. */
async function upstream(request: ForwardRequest): Promise<Buffer> {
  const query = Packet.parse(request.message);
  const response = Packet.createResponseFromRequest(query);
  response.header.ra = 1;
  if (request.qtype === TYPE.A) {
    response.answers.push(new Packet.Resource({ name: request.name, type: TYPE.CNAME, class: 1, ttl: 60, domain: "cdn.example.net" }));
    for (const address of ["192.0.2.1", "192.0.2.2"]) response.answers.push(new Packet.Resource({ name: "cdn.example.net", type: TYPE.A, class: 1, ttl: 60, address }));
  }
  return Promise.resolve(response.toBuffer());
}

function handlerWith(plugins: Partial<QueryPlugins>, forwarded: string[] = []) {
  const store = clusterStore();
  store.upsertService(service({ name: "pool", headless: true }));
  store.upsertEndpointSlice(slice({ name: "pool-1", serviceName: "pool", endpoints: ["10.244.0.1", "10.244.0.2", "10.244.0.3"].map((ip) => endpoint(ip)) }));
  const base = createQueryHandler({
    store,
    forward: (r) => {
      forwarded.push(r.name);
      return upstream(r);
    },
  });
  const current = { ...NO_PLUGINS, ...plugins };
  return withPlugins(base, () => current, true);
}

const ask = async (handle: ReturnType<typeof handlerWith>, name: string, type: number = TYPE.A) => {
  const out = await handle(queryBytes(name, type), "udp");
  if (out === null) throw new Error("no answer");
  return render(out);
};

const log = pino({ level: "silent" });

describe("query plugins", () => {
  it("passes every query through untouched when none is configured", async () => {
    expect((await ask(handlerWith({}), "nginx.default.svc.cluster.local")).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
  });

  it("answers hosts entries before the cluster and the upstream, and passes the rest on with fallthrough", async () => {
    const hosts = new HostsSource({ entries: ["10.1.1.1 db.example.corp", "10.1.1.2 nginx.default.svc.cluster.local"], file: null, zones: ["."], ttl: 60, reverse: true, fallthrough: ["."], reloadMs: 0, maxFileBytes: 1024 }, log);
    const forwarded: string[] = [];
    const handle = handlerWith({ hosts }, forwarded);
    expect(await ask(handle, "DB.example.corp")).toMatchObject({ rcode: RCODE.NOERROR, flags: "qr aa rd ra", answer: ["DB.example.corp A 10.1.1.1"] });
    expect((await ask(handle, "nginx.default.svc.cluster.local")).answer).toEqual(["nginx.default.svc.cluster.local A 10.1.1.2"]);
    expect((await ask(handle, "1.1.1.10.in-addr.arpa", TYPE.PTR)).answer).toEqual(["1.1.1.10.in-addr.arpa PTR db.example.corp"]);
    expect((await ask(handle, "dual.default.svc.cluster.local")).answer).toEqual(["dual.default.svc.cluster.local A 10.96.0.20"]);
    expect((await ask(handle, "www.example.org")).answer[0]).toBe("www.example.org CNAME cdn.example.net");
    expect(forwarded).toEqual(["www.example.org"]);
  });

  it("answers NXDOMAIN for a name of its zones it lacks, without fallthrough", async () => {
    const hosts = new HostsSource({ entries: ["10.1.1.1 db.example.corp"], file: null, zones: ["example.corp"], ttl: 60, reverse: true, fallthrough: [], reloadMs: 0, maxFileBytes: 1024 }, log);
    const handle = handlerWith({ hosts });
    expect((await ask(handle, "other.example.corp")).rcode).toBe(RCODE.NXDOMAIN);
    expect((await ask(handle, "nginx.default.svc.cluster.local")).answer).toEqual(["nginx.default.svc.cluster.local A 10.96.0.10"]);
  });

  it("rewrites a name to a cluster name and answers under the asked name", async () => {
    const rewrite = parseRewriteRules([{ from: "nginx.example.corp", to: "nginx.default.svc.cluster.local" }], "rewrite");
    const out = await ask(handlerWith({ rewrite }), "Nginx.Example.Corp");
    expect(out).toMatchObject({ rcode: RCODE.NOERROR, question: "Nginx.Example.Corp A", answer: ["Nginx.Example.Corp A 10.96.0.10"] });
  });

  it("rewrites a forwarded name, reverting the rewritten owner and applying answer rules to the others", async () => {
    const forwarded: string[] = [];
    const rewrite = parseRewriteRules(
      [{ match: "regex", from: "^(.*)\\.corp\\.$", to: "{1}.example.org", answer: { from: "^cdn\\.example\\.net\\.$", to: "cdn.corp" } }],
      "rewrite",
    );
    const out = await ask(handlerWith({ rewrite }, forwarded), "www.corp");
    expect(forwarded).toEqual(["www.example.org"]);
    expect(out).toMatchObject({ question: "www.corp A", answer: ["www.corp CNAME cdn.example.net", "cdn.corp A 192.0.2.1", "cdn.corp A 192.0.2.2"] });
  });

  it("answers SERVFAIL when a rule makes a name too long for the wire", async () => {
    const rewrite = parseRewriteRules([{ match: "prefix", from: "x", to: `${"a".repeat(70)}` }], "rewrite");
    expect((await ask(handlerWith({ rewrite }), "x.example.org")).rcode).toBe(RCODE.SERVFAIL);
  });

  it("rotates cluster answers, cached ones included, and forwarded ones", async () => {
    const handle = handlerWith({ loadbalance: new RoundRobin() });
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i++) firsts.add((await ask(handle, "pool.default.svc.cluster.local")).answer[0] ?? "");
    expect(firsts.size).toBe(3);
    const forwarded = [await ask(handle, "www.example.org"), await ask(handle, "www.example.org")].map((r) => r.answer.slice(1).map((l) => l.split(" ")[2]));
    expect(new Set(forwarded.map((a) => a.join(","))).size).toBe(2);
  });
});
