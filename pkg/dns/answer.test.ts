import { describe, expect, it } from "vitest";
import { answerQuestion, RFC8482_REPLY } from "./answer.ts";
import { RCODE, TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { answerLines } from "./testing/messages.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

const SOA = "cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local SERIAL 7200 1800 86400 5";
const nodata = { kind: "reply", rcode: RCODE.NOERROR, answer: [], authority: [SOA], additional: [] };
const nxdomain = { ...nodata, rcode: RCODE.NXDOMAIN };
const ok = (answer: string[], additional: string[] = []) => ({
  kind: "reply",
  rcode: RCODE.NOERROR,
  answer,
  authority: [],
  additional,
});

describe("answerQuestion: records", () => {
  const store = clusterStore();
  const ask = (name: string, type: number) => answerLines(answerQuestion(store, name, type));

  it.each([
    ["nginx.default.svc.cluster.local", TYPE.A, ok(["@ A 10.96.0.10"])],
    ["dual.default.svc.cluster.local", TYPE.A, ok(["@ A 10.96.0.20"])],
    ["dual.default.svc.cluster.local", TYPE.AAAA, ok(["@ AAAA fd00:10:96::20"])],
    [
      "_http._tcp.nginx.default.svc.cluster.local",
      TYPE.SRV,
      ok(["@ SRV 0 100 80 nginx.default.svc.cluster.local"], ["nginx.default.svc.cluster.local A 10.96.0.10"]),
    ],
    [
      "nginx.default.svc.cluster.local",
      TYPE.SRV,
      ok(
        ["@ SRV 0 50 80 nginx.default.svc.cluster.local", "@ SRV 0 50 443 nginx.default.svc.cluster.local"],
        ["nginx.default.svc.cluster.local A 10.96.0.10"],
      ),
    ],
    ["web.default.svc.cluster.local", TYPE.A, ok(["@ A 10.244.1.10", "@ A 10.244.2.11", "@ A 10.244.3.12"])],
    ["web-0.web.default.svc.cluster.local", TYPE.A, ok(["@ A 10.244.1.10"])],
    ["10-244-3-12.web.default.svc.cluster.local", TYPE.A, ok(["@ A 10.244.3.12"])],
    ["10.0.96.10.in-addr.arpa", TYPE.PTR, ok(["@ PTR nginx.default.svc.cluster.local"])],
    ["10.1.244.10.in-addr.arpa", TYPE.PTR, ok(["@ PTR web-0.web.default.svc.cluster.local"])],
    ["dns-version.cluster.local", TYPE.TXT, ok(['@ TXT "1.1.0"'])],
    ["search.default.svc.cluster.local", TYPE.CNAME, ok(["@ CNAME search.example.org"])],
    ["search.default.svc.cluster.local", TYPE.TXT, ok(["@ CNAME search.example.org"])],
    ["10-244-1-5.default.pod.cluster.local", TYPE.A, ok(["@ A 10.244.1.5"])],
    ["fd00--5.default.pod.cluster.local", TYPE.AAAA, ok(["@ AAAA fd00::5"])],
    ["10-0-0-1.kube-system.pod.cluster.local", TYPE.A, ok(["@ A 10.0.0.1"])],
    ["cluster.local", TYPE.NS, ok(["@ NS ns.dns.cluster.local"])],
  ])("%s type %i", (name, type, expected) => {
    expect(ask(name, type)).toEqual(expected);
  });

  it("answers the zone's SOA at the apex", () => {
    expect(ask("cluster.local", TYPE.SOA)).toEqual(ok([SOA.replace("SERIAL", String(store.serial))]));
  });

  it("gives all records of a name to ANY", () => {
    expect(ask("dual.default.svc.cluster.local", TYPE.ANY).answer).toEqual([
      "@ A 10.96.0.20",
      "@ AAAA fd00:10:96::20",
    ]);
  });
});

describe("answerQuestion: NODATA and NXDOMAIN as CoreDNS answers them", () => {
  const store = clusterStore();
  const ask = (name: string, type: number) => answerLines(answerQuestion(store, name, type));

  it.each([
    ["a name that exists for another type", "nginx.default.svc.cluster.local", TYPE.AAAA],
    ["a name that exists for another type (TXT)", "nginx.default.svc.cluster.local", TYPE.TXT],
    ["an endpoint name asked for SRV", "web-0.web.default.svc.cluster.local", TYPE.SRV],
    ["an SRV name asked for A", "_http._tcp.nginx.default.svc.cluster.local", TYPE.A],
    ["the _proto name between the port and the Service", "_tcp.nginx.default.svc.cluster.local", TYPE.SRV],
    ["svc.<zone>", "svc.cluster.local", TYPE.A],
    ["an existing namespace", "default.svc.cluster.local", TYPE.A],
    ["an existing namespace without Services", "empty.svc.cluster.local", TYPE.A],
    ["pod.<zone>", "pod.cluster.local", TYPE.A],
    ["a namespace under pod.<zone>", "default.pod.cluster.local", TYPE.A],
    ["a pod name asked for the other family", "10-244-1-5.default.pod.cluster.local", TYPE.AAAA],
    ["the apex for A", "cluster.local", TYPE.A],
    ["dns-version for A", "dns-version.cluster.local", TYPE.A],
    ["ns.dns.<zone> of a server without an address of its own", "ns.dns.cluster.local", TYPE.A],
    ["ns.dns.<zone> asked for TXT", "ns.dns.cluster.local", TYPE.TXT],
    ["dns.<zone>, above ns.dns.<zone>", "dns.cluster.local", TYPE.A],
  ])("NODATA for %s", (_what, name, type) => {
    expect(ask(name, type)).toEqual(nodata);
  });

  it.each([
    ["an unknown Service", "nope.default.svc.cluster.local"],
    ["a Service in an unknown namespace", "nginx.nope.svc.cluster.local"],
    ["an unknown namespace", "nope.svc.cluster.local"],
    ["a headless Service with no ready endpoint", "idle.default.svc.cluster.local"],
    ["a not-ready endpoint", "web-3.web.default.svc.cluster.local"],
    ["an unknown port", "_grpc._tcp.nginx.default.svc.cluster.local"],
    ["a port under the wrong protocol", "_http._udp.nginx.default.svc.cluster.local"],
    ["a bad shape under the zone", "foo.cluster.local"],
    ["too many labels", "a.b.c.nginx.default.svc.cluster.local"],
    ["a search-path miss", "nginx.default.svc.cluster.local.default.svc.cluster.local"],
    ["a short-name search-path miss", "nginx.svc.cluster.local"],
    ["a pod in an unknown namespace", "10-0-0-1.nope.pod.cluster.local"],
    ["a pod label that is no address", "nginx.default.pod.cluster.local"],
    ["an unknown namespace under pod.<zone>", "nope.pod.cluster.local"],
  ])("NXDOMAIN for %s", (_what, name) => {
    expect(ask(name, TYPE.A)).toEqual(nxdomain);
  });

  it("gives NODATA with the reverse zone's SOA for a known reverse name asked for A", () => {
    expect(ask("10.0.96.10.in-addr.arpa", TYPE.A)).toEqual({
      ...nodata,
      authority: [SOA.replaceAll("cluster.local", "in-addr.arpa")],
    });
  });

  it("carries the current serial in the SOA", () => {
    const answer = answerQuestion(store, "nope.default.svc.cluster.local", TYPE.A);
    const soa = answer.kind === "reply" ? answer.authority[0]?.records[0] : undefined;
    expect(soa?.type === "SOA" && soa.serial).toBe(store.serial);
  });

  it("is authoritative for every in-zone answer", () => {
    for (const name of ["nginx.default.svc.cluster.local", "nope.default.svc.cluster.local", "svc.cluster.local"]) {
      const answer = answerQuestion(store, name, TYPE.A);
      expect(answer.kind === "reply" && answer.authoritative).toBe(true);
    }
  });
});

describe("answerQuestion: pods modes", () => {
  it("gives NXDOMAIN for pod names with pods disabled, NODATA for pod.<zone> still", () => {
    const store = clusterStore({ pods: "disabled" });
    expect(answerLines(answerQuestion(store, "10-244-1-5.default.pod.cluster.local", TYPE.A))).toEqual(nxdomain);
    expect(answerLines(answerQuestion(store, "default.pod.cluster.local", TYPE.A))).toEqual(nxdomain);
    expect(answerLines(answerQuestion(store, "pod.cluster.local", TYPE.A))).toEqual(nodata);
  });

  it("answers only the addresses of Pods in that namespace, with pods verified", () => {
    const store = clusterStore({ pods: "verified" });
    store.upsertPod({ namespace: "default", name: "nginx-abc-1", ips: ["10.244.1.5"] });
    expect(answerLines(answerQuestion(store, "10-244-1-5.default.pod.cluster.local", TYPE.A))).toEqual(
      ok(["@ A 10.244.1.5"]),
    );
    expect(answerLines(answerQuestion(store, "10-244-1-5.kube-system.pod.cluster.local", TYPE.A))).toEqual(nxdomain);
    expect(answerLines(answerQuestion(store, "10-9-9-9.default.pod.cluster.local", TYPE.A))).toEqual(nxdomain);
  });
});

describe("answerQuestion: ExternalName", () => {
  it("asks the caller to chase an out-of-zone target for A and AAAA", () => {
    const store = clusterStore();
    for (const type of [TYPE.A, TYPE.AAAA]) {
      const answer = answerQuestion(store, "search.default.svc.cluster.local", type);
      expect(answer).toMatchObject({ kind: "chase", target: "search.example.org", qtype: type });
      expect(answerLines(answer).answer).toEqual(["@ CNAME search.example.org"]);
    }
  });

  it("follows an in-zone target itself", () => {
    const store = clusterStore();
    store.upsertService(
      service({ name: "alias", type: "ExternalName", externalName: "nginx.default.svc.cluster.local" }),
    );
    expect(answerLines(answerQuestion(store, "alias.default.svc.cluster.local", TYPE.A))).toEqual(
      ok(["@ CNAME nginx.default.svc.cluster.local", "nginx.default.svc.cluster.local A 10.96.0.10"]),
    );
  });

  it("stops a CNAME loop", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "a", type: "ExternalName", externalName: "b.default.svc.cluster.local" }));
    store.upsertService(service({ name: "b", type: "ExternalName", externalName: "a.default.svc.cluster.local" }));
    store.markSynced();
    const answer = answerQuestion(store, "a.default.svc.cluster.local", TYPE.A);
    expect(answer.kind).toBe("reply");
  });
});

describe("answerQuestion: the zone's name servers, found as CoreDNS finds them", () => {
  /** kube-dns in kube-system, dual-stack, with this server's pod (10.244.9.9, fd00::9:9) as its endpoint. */
  function withKubeDns(serverAddresses: string[]): RecordStore {
    const store = clusterStore({ serverAddresses });
    store.upsertService(service({ name: "kube-dns", namespace: "kube-system", clusterIPs: ["10.96.0.10", "fd00:10:96::a"], ipFamilies: ["IPv4", "IPv6"] }));
    store.upsertEndpointSlice(
      slice({ name: "kube-dns-1", namespace: "kube-system", serviceName: "kube-dns", endpoints: [endpoint("10.244.9.9")] }),
    );
    store.upsertEndpointSlice(
      slice({ name: "kube-dns-2", namespace: "kube-system", serviceName: "kube-dns", addressType: "IPv6", endpoints: [endpoint("fd00::9:9")] }),
    );
    return store;
  }
  const kubeDns = "kube-dns.kube-system.svc.cluster.local";

  it("names the Service this server is an endpoint of in the apex NS, with its cluster IPs as glue", () => {
    const store = withKubeDns(["10.244.9.9", "fd00::9:9"]);
    expect(answerLines(answerQuestion(store, "cluster.local", TYPE.NS))).toEqual(
      ok([`@ NS ${kubeDns}`], [`${kubeDns} A 10.96.0.10`, `${kubeDns} AAAA fd00:10:96::a`]),
    );
  });

  it("answers ns.dns.<zone> with that Service's cluster IPs, by family", () => {
    const store = withKubeDns(["10.244.9.9"]);
    expect(answerLines(answerQuestion(store, "ns.dns.cluster.local", TYPE.A))).toEqual(ok(["@ A 10.96.0.10"]));
    expect(answerLines(answerQuestion(store, "ns.dns.cluster.local", TYPE.AAAA))).toEqual(ok(["@ AAAA fd00:10:96::a"]));
    expect(answerLines(answerQuestion(store, "ns.dns.cluster.local", TYPE.ANY, { minimalAny: true }))).toEqual(ok(["@ A 10.96.0.10"]));
  });

  it("falls back to ns.dns.<zone> at the server's own addresses when no Service has it as an endpoint", () => {
    const store = withKubeDns(["10.244.7.7"]);
    expect(answerLines(answerQuestion(store, "cluster.local", TYPE.NS))).toEqual(
      ok(["@ NS ns.dns.cluster.local"], ["ns.dns.cluster.local A 10.244.7.7"]),
    );
    expect(answerLines(answerQuestion(store, "ns.dns.cluster.local", TYPE.A))).toEqual(ok(["@ A 10.244.7.7"]));
  });

  it("follows the endpoints: once this server's endpoint is gone, the fallback answers", () => {
    const store = withKubeDns(["10.244.9.9"]);
    store.deleteEndpointSlice("kube-system", "kube-dns-1");
    expect(answerLines(answerQuestion(store, "ns.dns.cluster.local", TYPE.A))).toEqual(ok(["@ A 10.244.9.9"]));
  });

  it("still names ns.dns.<zone>, without glue, for a server with no address of its own", () => {
    expect(answerLines(answerQuestion(withKubeDns([]), "cluster.local", TYPE.NS))).toEqual(ok(["@ NS ns.dns.cluster.local"]));
  });
});

describe("answerQuestion: ANY answered minimally (RFC 8482)", () => {
  const store = clusterStore();
  const minimal = { minimalAny: true };

  it("gives one record set of a cluster name, its addresses first", () => {
    expect(answerLines(answerQuestion(store, "dual.default.svc.cluster.local", TYPE.ANY, minimal)).answer).toEqual(["@ A 10.96.0.20"]);
    expect(answerLines(answerQuestion(store, "_http._tcp.nginx.default.svc.cluster.local", TYPE.ANY, minimal)).answer).toEqual([
      "@ SRV 0 100 80 nginx.default.svc.cluster.local",
    ]);
  });

  it("leaves names outside the zone to the caller, which answers them with RFC 8482's HINFO", () => {
    expect(answerQuestion(store, "example.org", TYPE.ANY, minimal)).toEqual({ kind: "forward" });
    expect(answerLines({ kind: "reply", ...RFC8482_REPLY }).answer).toEqual(['@ HINFO "ANY obsoleted" "See RFC 8482"']);
  });
});

describe("answerQuestion: everything else", () => {
  it("forwards names outside the zone", () => {
    const store = clusterStore();
    expect(answerQuestion(store, "example.org", TYPE.A)).toEqual({ kind: "forward" });
    expect(answerQuestion(store, "", TYPE.NS)).toEqual({ kind: "forward" });
  });

  it("forwards reverse names the cluster does not know, or answers NXDOMAIN without fallthrough", () => {
    const store = clusterStore();
    expect(answerQuestion(store, "1.1.168.192.in-addr.arpa", TYPE.PTR)).toEqual({ kind: "forward" });
    expect(answerLines(answerQuestion(store, "1.1.168.192.in-addr.arpa", TYPE.PTR, { reverseFallthrough: false }))).toEqual({
      ...nxdomain,
      authority: [SOA.replaceAll("cluster.local", "in-addr.arpa")],
    });
  });

  it("refuses zone transfers", () => {
    const store = clusterStore();
    for (const type of [TYPE.AXFR, TYPE.IXFR]) {
      expect(answerLines(answerQuestion(store, "cluster.local", type))).toMatchObject({ rcode: RCODE.REFUSED, answer: [] });
    }
  });

  it("answers SERVFAIL instead of NXDOMAIN and NODATA before the first sync, records still", () => {
    const store = new RecordStore();
    store.upsertNamespace({ name: "default" });
    store.upsertService(service({ name: "nginx", clusterIPs: ["10.96.0.10"] }));
    expect(answerLines(answerQuestion(store, "nope.default.svc.cluster.local", TYPE.A)).rcode).toBe(RCODE.SERVFAIL);
    expect(answerLines(answerQuestion(store, "nginx.default.svc.cluster.local", TYPE.AAAA)).rcode).toBe(RCODE.SERVFAIL);
    expect(answerLines(answerQuestion(store, "nginx.default.svc.cluster.local", TYPE.A))).toEqual(ok(["@ A 10.96.0.10"]));
    expect(answerQuestion(store, "example.org", TYPE.A)).toEqual({ kind: "forward" });
    store.markSynced();
    expect(answerLines(answerQuestion(store, "nope.default.svc.cluster.local", TYPE.A)).rcode).toBe(RCODE.NXDOMAIN);
  });

  it("answers from the new data right after a change", () => {
    const store = clusterStore();
    store.upsertService(service({ name: "fresh", clusterIPs: ["10.96.7.7"] }));
    expect(answerLines(answerQuestion(store, "fresh.default.svc.cluster.local", TYPE.A))).toEqual(ok(["@ A 10.96.7.7"]));
    store.deleteService("default", "fresh");
    expect(answerLines(answerQuestion(store, "fresh.default.svc.cluster.local", TYPE.A))).toEqual(nxdomain);
  });

  it("answers an endpoint of a headless Service that turns ready", () => {
    const store = clusterStore();
    store.upsertEndpointSlice(slice({ name: "idle-1", serviceName: "idle", endpoints: [endpoint("10.244.4.4")] }));
    expect(answerLines(answerQuestion(store, "idle.default.svc.cluster.local", TYPE.A))).toEqual(ok(["@ A 10.244.4.4"]));
  });
});
