import { describe, expect, it } from "vitest";
import { type Answer, answerQuestion } from "./answer.ts";
import { reverseName } from "./ip-names.ts";
import { TYPE } from "./records.ts";
import { RecordStore } from "./record-store.ts";
import { clusterStore, endpoint, service, slice } from "./testing/objects.ts";

/** The records at a name as "TYPE data" lines; undefined when the name does not exist. */
function at(store: RecordStore, name: string): string[] | undefined {
  const entry = store.lookup(name);
  if (entry === undefined) return undefined;
  return entry.rrsets.flatMap((set) =>
    set.records.map((r) => {
      switch (r.type) {
        case "A":
        case "AAAA":
          return `${r.type} ${r.address}`;
        case "SRV":
          return `SRV ${r.priority} ${r.weight} ${r.port} ${r.target}`;
        case "TXT":
          return `TXT ${r.text}`;
        case "SOA":
          return `SOA ${r.serial}`;
        case "HINFO":
          return `HINFO ${r.cpu} ${r.os}`;
        default:
          return `${r.type} ${r.target}`;
      }
    }),
  );
}

function glue(store: RecordStore, name: string): string[] {
  const srv = store.lookup(name)?.rrsets.find((s) => s.type === 33);
  return (srv?.additional ?? []).flatMap((s) => s.records.map((r) => `${s.owner} ${r.type} ${"address" in r ? r.address : ""}`));
}

describe("RecordStore: ClusterIP Services", () => {
  const store = clusterStore();

  it("serves the ClusterIP as A at <svc>.<ns>.svc.<zone>, with SRV for the named ports", () => {
    expect(at(store, "nginx.default.svc.cluster.local")).toEqual([
      "A 10.96.0.10",
      "SRV 0 50 80 nginx.default.svc.cluster.local",
      "SRV 0 50 443 nginx.default.svc.cluster.local",
    ]);
  });

  it("serves one SRV per named port at _<port>._<proto>, with the target's address as glue", () => {
    expect(at(store, "_http._tcp.nginx.default.svc.cluster.local")).toEqual([
      "SRV 0 100 80 nginx.default.svc.cluster.local",
    ]);
    expect(at(store, "_https._tcp.nginx.default.svc.cluster.local")).toEqual([
      "SRV 0 100 443 nginx.default.svc.cluster.local",
    ]);
    expect(glue(store, "_http._tcp.nginx.default.svc.cluster.local")).toEqual([
      "nginx.default.svc.cluster.local A 10.96.0.10",
    ]);
    expect(at(store, "_http._udp.nginx.default.svc.cluster.local")).toBeUndefined();
  });

  it("serves A and AAAA for a dual-stack Service, and no SRV for an unnamed port", () => {
    expect(at(store, "dual.default.svc.cluster.local")).toEqual(["A 10.96.0.20", "AAAA fd00:10:96::20"]);
    expect(at(store, "_._udp.dual.default.svc.cluster.local")).toBeUndefined();
  });

  it("serves PTR for each ClusterIP, IPv4 and IPv6", () => {
    expect(at(store, "10.0.96.10.in-addr.arpa")).toEqual(["PTR nginx.default.svc.cluster.local"]);
    expect(at(store, "20.0.96.10.in-addr.arpa")).toEqual(["PTR dual.default.svc.cluster.local"]);
    expect(at(store, reverseName("fd00:10:96::20") ?? "")).toEqual([
      "PTR dual.default.svc.cluster.local",
    ]);
  });

  it("names each ready endpoint of a ClusterIP Service and gives its address a PTR, as CoreDNS does", () => {
    expect(at(store, "10-244-1-5.nginx.default.svc.cluster.local")).toEqual(["A 10.244.1.5"]);
    expect(at(store, "5.1.244.10.in-addr.arpa")).toEqual(["PTR 10-244-1-5.nginx.default.svc.cluster.local"]);
    expect(at(store, "10-244-2-6.nginx.default.svc.cluster.local")).toBeUndefined();
  });
});

describe("RecordStore: headless Services", () => {
  const store = clusterStore();

  it("serves one A per ready endpoint", () => {
    expect(at(store, "web.default.svc.cluster.local")?.filter((l) => l.startsWith("A "))).toEqual([
      "A 10.244.1.10",
      "A 10.244.2.11",
      "A 10.244.3.12",
    ]);
  });

  it("names endpoints by hostname, or by dashed address without one", () => {
    expect(at(store, "web-0.web.default.svc.cluster.local")).toEqual(["A 10.244.1.10"]);
    expect(at(store, "web-1.web.default.svc.cluster.local")).toEqual(["A 10.244.2.11"]);
    expect(at(store, "10-244-3-12.web.default.svc.cluster.local")).toEqual(["A 10.244.3.12"]);
    expect(at(store, "web-3.web.default.svc.cluster.local")).toBeUndefined();
  });

  it("points SRV records at the endpoint names, with their addresses as glue", () => {
    expect(at(store, "_http._tcp.web.default.svc.cluster.local")).toEqual([
      "SRV 0 33 80 10-244-3-12.web.default.svc.cluster.local",
      "SRV 0 33 80 web-0.web.default.svc.cluster.local",
      "SRV 0 33 80 web-1.web.default.svc.cluster.local",
    ]);
    expect(glue(store, "_http._tcp.web.default.svc.cluster.local")).toEqual([
      "web-0.web.default.svc.cluster.local A 10.244.1.10",
      "web-1.web.default.svc.cluster.local A 10.244.2.11",
      "10-244-3-12.web.default.svc.cluster.local A 10.244.3.12",
    ]);
  });

  it("serves PTR for endpoint addresses to the endpoint names", () => {
    expect(at(store, "10.1.244.10.in-addr.arpa")).toEqual(["PTR web-0.web.default.svc.cluster.local"]);
    expect(at(store, "12.3.244.10.in-addr.arpa")).toEqual(["PTR 10-244-3-12.web.default.svc.cluster.local"]);
  });

  it("has no name for a headless Service without a ready endpoint", () => {
    expect(at(store, "idle.default.svc.cluster.local")).toBeUndefined();
  });

  it("counts not-ready endpoints in with publishNotReadyAddresses", () => {
    store.upsertService(service({ name: "idle", headless: true, publishNotReadyAddresses: true }));
    expect(at(store, "idle.default.svc.cluster.local")).toEqual(["A 10.244.4.4"]);
    expect(at(store, "10-244-4-4.idle.default.svc.cluster.local")).toEqual(["A 10.244.4.4"]);
  });

  it("joins the IPv4 and IPv6 slices of a dual-stack StatefulSet under one hostname", () => {
    const s = new RecordStore();
    s.upsertService(service({ name: "db", headless: true, ipFamilies: ["IPv4", "IPv6"] }));
    const ports = [{ name: "pg", protocol: "TCP" as const, port: 5432 }];
    s.upsertEndpointSlice(slice({ name: "db-v4", serviceName: "db", ports, endpoints: [endpoint("10.0.0.1", { hostname: "db-0" })] }));
    s.upsertEndpointSlice(
      slice({ name: "db-v6", serviceName: "db", addressType: "IPv6", ports, endpoints: [endpoint("fd00::1", { hostname: "db-0" })] }),
    );
    expect(at(s, "db-0.db.default.svc.cluster.local")).toEqual(["A 10.0.0.1", "AAAA fd00::1"]);
    expect(at(s, "_pg._tcp.db.default.svc.cluster.local")).toEqual(["SRV 0 100 5432 db-0.db.default.svc.cluster.local"]);
    expect(at(s, `1.${"0.".repeat(29)}d.f.ip6.arpa`)).toEqual(["PTR db-0.db.default.svc.cluster.local"]);
  });

  it("serves an address once when two slices carry it", () => {
    const s = new RecordStore();
    s.upsertService(service({ name: "h", headless: true }));
    s.upsertEndpointSlice(slice({ name: "h-1", serviceName: "h", endpoints: [endpoint("10.0.0.1")] }));
    s.upsertEndpointSlice(slice({ name: "h-2", serviceName: "h", endpoints: [endpoint("10.0.0.1")] }));
    expect(at(s, "h.default.svc.cluster.local")).toEqual(["A 10.0.0.1"]);
  });

  it("gives a large StatefulSet one SRV per endpoint and port, however many slices repeat them", () => {
    const s = new RecordStore();
    s.upsertService(service({ name: "big", headless: true }));
    const ports = [{ name: "http", protocol: "TCP" as const, port: 80 }];
    const endpoints = Array.from({ length: 40 }, (_, i) => endpoint(`10.0.1.${i}`, { hostname: `big-${i}` }));
    // Two slices carrying the same endpoints: past the length where a scan gives way to a Set.
    s.upsertEndpointSlice(slice({ name: "big-1", serviceName: "big", ports, endpoints }));
    s.upsertEndpointSlice(slice({ name: "big-2", serviceName: "big", ports, endpoints: [...endpoints].reverse() }));
    const srv = at(s, "_http._tcp.big.default.svc.cluster.local") ?? [];
    expect(srv).toHaveLength(40);
    expect(new Set(srv).size).toBe(40);
    expect(srv).toContain("SRV 0 2 80 big-39.big.default.svc.cluster.local");
    const own = at(s, "big.default.svc.cluster.local") ?? [];
    expect(own.filter((l) => l.startsWith("SRV "))).toEqual(srv);
    expect(own.filter((l) => l.startsWith("A "))).toHaveLength(40);
  });

  it("ignores FQDN slices", () => {
    const s = new RecordStore();
    s.upsertService(service({ name: "h", headless: true }));
    s.upsertEndpointSlice(slice({ name: "h-1", serviceName: "h", addressType: "FQDN", endpoints: [endpoint("example.org")] }));
    expect(at(s, "h.default.svc.cluster.local")).toBeUndefined();
  });
});

describe("RecordStore: ExternalName", () => {
  it("serves a CNAME to the external name", () => {
    const store = clusterStore();
    expect(at(store, "search.default.svc.cluster.local")).toEqual(["CNAME search.example.org"]);
  });

  it("serves nothing for an address in externalName, as CoreDNS", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "x", type: "ExternalName", externalName: "10.0.0.1" }));
    expect(at(store, "x.default.svc.cluster.local")).toBeUndefined();
  });

  it("moves the CNAME when the external name changes", () => {
    const store = clusterStore();
    store.upsertService(service({ name: "search", type: "ExternalName", externalName: "find.example.net." }));
    expect(at(store, "search.default.svc.cluster.local")).toEqual(["CNAME find.example.net"]);
  });
});

describe("RecordStore: changes", () => {
  it("waits for the Service when its slice comes first", () => {
    const store = new RecordStore();
    store.upsertEndpointSlice(slice({ name: "h-1", serviceName: "h", endpoints: [endpoint("10.0.0.1")] }));
    expect(at(store, "h.default.svc.cluster.local")).toBeUndefined();
    store.upsertService(service({ name: "h", headless: true }));
    expect(at(store, "h.default.svc.cluster.local")).toEqual(["A 10.0.0.1"]);
  });

  it("removes every name of a deleted Service, PTRs included", () => {
    const store = clusterStore();
    store.deleteService("default", "nginx");
    expect(at(store, "nginx.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "_http._tcp.nginx.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "_tcp.nginx.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "10-244-1-5.nginx.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "10.0.96.10.in-addr.arpa")).toBeUndefined();
    expect(at(store, "5.1.244.10.in-addr.arpa")).toBeUndefined();
  });

  it("follows endpoints as slices change and are deleted", () => {
    const store = clusterStore();
    store.upsertEndpointSlice(
      slice({ name: "web-1", serviceName: "web", endpoints: [endpoint("10.244.9.9", { hostname: "web-0" })] }),
    );
    expect(at(store, "web-0.web.default.svc.cluster.local")).toEqual(["A 10.244.9.9"]);
    expect(at(store, "web-1.web.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "10.1.244.10.in-addr.arpa")).toBeUndefined();
    store.deleteEndpointSlice("default", "web-1");
    expect(at(store, "web.default.svc.cluster.local")).toBeUndefined();
  });

  it("moves a slice whose service-name label changed", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "a", headless: true }));
    store.upsertService(service({ name: "b", headless: true }));
    store.upsertEndpointSlice(slice({ name: "s", serviceName: "a", endpoints: [endpoint("10.0.0.1")] }));
    store.upsertEndpointSlice(slice({ name: "s", serviceName: "b", endpoints: [endpoint("10.0.0.1")] }));
    expect(at(store, "a.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "b.default.svc.cluster.local")).toEqual(["A 10.0.0.1"]);
  });

  it("keeps a PTR from each Service that has the address", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "a", headless: true }));
    store.upsertService(service({ name: "b", headless: true }));
    store.upsertEndpointSlice(slice({ name: "a-1", serviceName: "a", endpoints: [endpoint("10.0.0.1")] }));
    store.upsertEndpointSlice(slice({ name: "b-1", serviceName: "b", endpoints: [endpoint("10.0.0.1")] }));
    expect(at(store, "1.0.0.10.in-addr.arpa")).toEqual([
      "PTR 10-0-0-1.a.default.svc.cluster.local",
      "PTR 10-0-0-1.b.default.svc.cluster.local",
    ]);
    store.deleteService("default", "a");
    expect(at(store, "1.0.0.10.in-addr.arpa")).toEqual(["PTR 10-0-0-1.b.default.svc.cluster.local"]);
  });
});

describe("RecordStore: names that exist without records", () => {
  it("keeps the namespace and _proto names while a name below them has records", () => {
    const store = clusterStore();
    expect(at(store, "_tcp.nginx.default.svc.cluster.local")).toEqual([]);
    expect(at(store, "default.svc.cluster.local")).toEqual([]);
    store.deleteService("kube-system", "none");
    expect(at(store, "kube-system.svc.cluster.local")).toBeUndefined();
    store.upsertService(service({ name: "dns", namespace: "kube-system", clusterIPs: ["10.96.0.53"] }));
    expect(at(store, "kube-system.svc.cluster.local")).toEqual([]);
    store.deleteService("kube-system", "dns");
    expect(at(store, "kube-system.svc.cluster.local")).toBeUndefined();
  });
});

describe("RecordStore: endpoint names from the endpoint table", () => {
  it("keeps a Service's name while only its endpoints are named (no ClusterIP, no named port)", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "odd", clusterIPs: [], ports: [] }));
    store.upsertEndpointSlice(slice({ name: "odd-1", serviceName: "odd", endpoints: [endpoint("10.0.0.7")] }));
    expect(at(store, "10-0-0-7.odd.default.svc.cluster.local")).toEqual(["A 10.0.0.7"]);
    expect(at(store, "odd.default.svc.cluster.local")).toEqual([]);
    expect(at(store, "default.svc.cluster.local")).toEqual([]);
    store.deleteEndpointSlice("default", "odd-1");
    expect(at(store, "odd.default.svc.cluster.local")).toBeUndefined();
    expect(at(store, "default.svc.cluster.local")).toBeUndefined();
  });

  it("answers a reverse name only in its canonical spelling, with the ClusterIP's PTR first", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "a", clusterIPs: ["10.0.0.1"] }));
    store.upsertService(service({ name: "b", headless: true }));
    store.upsertEndpointSlice(slice({ name: "b-1", serviceName: "b", endpoints: [endpoint("10.0.0.1")] }));
    expect(at(store, "1.0.0.10.in-addr.arpa")).toEqual(["PTR a.default.svc.cluster.local", "PTR 10-0-0-1.b.default.svc.cluster.local"]);
    expect(at(store, "01.0.0.10.in-addr.arpa")).toBeUndefined();
  });

  it("moves the namespace's and the reverse zones' scopes when an endpoint changes, and nothing on a repeat", () => {
    const store = clusterStore();
    const ns = store.scopeOf("x.default.svc.cluster.local");
    const reverse = store.scopeOf("1.0.0.10.in-addr.arpa");
    const [n0, r0] = [ns.value, reverse.value];
    store.upsertEndpointSlice(slice({ name: "web-1", serviceName: "web", endpoints: [endpoint("10.244.9.9", { hostname: "web-0" })] }));
    expect([ns.value > n0, reverse.value > r0]).toEqual([true, true]);
    const [n1, r1] = [ns.value, reverse.value];
    store.upsertEndpointSlice(slice({ name: "web-1", serviceName: "web", endpoints: [endpoint("10.244.9.9", { hostname: "web-0" })] }));
    expect([ns.value, reverse.value]).toEqual([n1, r1]);
  });
});

describe("RecordStore: serial and sync", () => {
  it("moves the serial on every change and not on a repeated event", () => {
    const store = new RecordStore({ now: () => 1_700_000_000_000 });
    const start = store.serial;
    expect(start).toBe(1_700_000_000);
    const nginx = service({ name: "nginx", clusterIPs: ["10.96.0.10"] });
    store.upsertService(nginx);
    const afterAdd = store.serial;
    expect(afterAdd).toBeGreaterThan(start);
    store.upsertService({ ...nginx });
    expect(store.serial).toBe(afterAdd);
    store.upsertNamespace({ name: "default" });
    expect(store.serial).toBeGreaterThan(afterAdd);
    const afterNs = store.serial;
    store.upsertNamespace({ name: "default" });
    store.deleteService("default", "missing");
    store.deleteEndpointSlice("default", "missing");
    expect(store.serial).toBe(afterNs);
    store.deleteService("default", "nginx");
    expect(store.serial).toBeGreaterThan(afterNs);
  });

  it("follows the clock when it is ahead of the counter", () => {
    let now = 1_700_000_000_000;
    const store = new RecordStore({ now: () => now });
    now += 3_600_000;
    store.upsertNamespace({ name: "default" });
    expect(store.serial).toBe(1_700_003_600);
  });

  it("gives one SOA record set per serial, with CoreDNS's fields", () => {
    const store = new RecordStore({ now: () => 1_700_000_000_000 });
    const soa = store.soa("cluster.local");
    expect(store.soa("cluster.local")).toBe(soa);
    expect(soa.owner).toBe("cluster.local");
    expect(soa.records).toEqual([
      {
        type: "SOA",
        ttl: 5,
        primary: "ns.dns.cluster.local",
        admin: "hostmaster.cluster.local",
        serial: 1_700_000_000,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 5,
      },
    ]);
    store.upsertNamespace({ name: "default" });
    expect(store.soa("cluster.local")).not.toBe(soa);
  });

  it("is not synced until told", () => {
    const store = new RecordStore();
    expect(store.synced).toBe(false);
    store.markSynced();
    expect(store.synced).toBe(true);
  });

  it("tracks namespaces", () => {
    const store = new RecordStore();
    store.upsertNamespace({ name: "team-a" });
    expect(store.hasNamespace("team-a")).toBe(true);
    store.deleteNamespace("team-a");
    expect(store.hasNamespace("team-a")).toBe(false);
  });
});

describe("RecordStore: pod addresses for pods verified", () => {
  it("knows the addresses of Pods, per namespace, in canonical form", () => {
    const store = new RecordStore({ pods: "verified" });
    store.upsertPod({ namespace: "default", name: "web-0", ips: ["10.0.0.1", "FD00:0::1"] });
    expect(store.hasPodIP("default", "10.0.0.1")).toBe(true);
    expect(store.hasPodIP("default", "fd00::1")).toBe(true);
    expect(store.hasPodIP("default", "10.0.0.2")).toBe(false);
    expect(store.hasPodIP("other", "10.0.0.1")).toBe(false);
    store.upsertPod({ namespace: "default", name: "web-0", ips: [] });
    expect(store.hasPodIP("default", "10.0.0.1")).toBe(false);
  });

  it("keeps an address while any Pod still has it, and drops it with the last", () => {
    const store = new RecordStore({ pods: "verified" });
    store.upsertPod({ namespace: "default", name: "old", ips: ["10.0.0.1"] });
    store.upsertPod({ namespace: "default", name: "new", ips: ["10.0.0.1"] });
    store.deletePod("default", "old");
    expect(store.hasPodIP("default", "10.0.0.1")).toBe(true);
    store.deletePod("default", "new");
    expect(store.hasPodIP("default", "10.0.0.1")).toBe(false);
  });

  it("does not take addresses from EndpointSlices, nor keep Pods in the other modes", () => {
    const verified = new RecordStore({ pods: "verified" });
    verified.upsertEndpointSlice(slice({ name: "s", serviceName: "x", endpoints: [endpoint("10.0.0.1")] }));
    expect(verified.hasPodIP("default", "10.0.0.1")).toBe(false);
    const insecure = new RecordStore({ pods: "insecure" });
    insecure.upsertPod({ namespace: "default", name: "web-0", ips: ["10.0.0.1"] });
    expect(insecure.hasPodIP("default", "10.0.0.1")).toBe(false);
  });

  it("moves the serial and the namespace's scope when a Pod's addresses change, and only then", () => {
    const store = new RecordStore({ pods: "verified", now: () => 0 });
    store.upsertNamespace({ name: "default" });
    const scope = store.scopeOf("10-0-0-1.default.pod.cluster.local");
    const [serial, value] = [store.serial, scope.value];
    store.upsertPod({ namespace: "default", name: "web-0", ips: ["10.0.0.1"] });
    expect(store.serial).toBeGreaterThan(serial);
    expect(scope.value).toBeGreaterThan(value);
    const [serial2, value2] = [store.serial, scope.value];
    store.upsertPod({ namespace: "default", name: "web-0", ips: ["10.0.0.1"] });
    expect([store.serial, scope.value]).toEqual([serial2, value2]);
  });
});

describe("RecordStore: scopes of cached answers", () => {
  it("gives names in a namespace its own scope, and moves only the scopes a change touches", () => {
    const store = clusterStore();
    const scopes = {
      default: store.scopeOf("nginx.default.svc.cluster.local"),
      defaultPods: store.scopeOf("10-0-0-1.default.pod.cluster.local"),
      namespaceName: store.scopeOf("default.svc.cluster.local"),
      kubeSystem: store.scopeOf("x.kube-system.svc.cluster.local"),
      reverse: store.scopeOf("10.0.96.10.in-addr.arpa"),
      apex: store.scopeOf("cluster.local"),
      svc: store.scopeOf("svc.cluster.local"),
    };
    expect(scopes.defaultPods).toBe(scopes.default);
    expect(scopes.namespaceName).toBe(scopes.default);
    expect(scopes.svc).toBe(scopes.apex);
    const before = Object.fromEntries(Object.entries(scopes).map(([k, g]) => [k, g.value]));
    store.upsertService(service({ name: "late", clusterIPs: ["10.96.0.99"] }));
    const moved = Object.entries(scopes).filter(([k, g]) => g.value !== before[k]).map(([k]) => k);
    expect(moved.sort()).toEqual(["apex", "default", "defaultPods", "namespaceName", "reverse", "svc"]);
  });

  it("shares one scope among namespaces that hold nothing, and moves it when one starts to", () => {
    const store = clusterStore();
    const absent = store.scopeOf("web.team-x.svc.cluster.local");
    expect(store.scopeOf("web.team-y.svc.cluster.local")).toBe(absent);
    const value = absent.value;
    store.upsertNamespace({ name: "team-x" });
    expect(absent.value).toBeGreaterThan(value);
    expect(store.scopeOf("web.team-x.svc.cluster.local")).not.toBe(absent);
  });
});

describe("RecordStore: zone and TTL", () => {
  it("builds names in the configured zone with the configured TTL", () => {
    const store = new RecordStore({ zone: "Example.Internal.", ttl: 30 });
    store.upsertService(service({ name: "nginx", clusterIPs: ["10.96.0.10"] }));
    expect(store.zone).toBe("example.internal");
    const set = store.lookup("nginx.default.svc.example.internal")?.rrsets[0];
    expect(set?.records).toEqual([{ type: "A", ttl: 30, address: "10.96.0.10" }]);
    expect(store.lookup("10.0.96.10.in-addr.arpa")?.rrsets[0]?.records).toEqual([
      { type: "PTR", ttl: 30, target: "nginx.default.svc.example.internal" },
    ]);
  });

  it("gives endpoint names, pod names and negative answers the configured TTL, the SOA's own TTL at most 300 as CoreDNS", () => {
    for (const ttl of [0, 30, 3600]) {
      const store = new RecordStore({ ttl });
      store.upsertNamespace({ name: "default" });
      store.upsertService(service({ name: "web", headless: true }));
      store.upsertEndpointSlice(slice({ name: "web-1", serviceName: "web", endpoints: [endpoint("10.0.0.1")] }));
      store.markSynced();
      const ttls = (answer: Answer) => (answer.kind === "reply" ? [...answer.answer, ...answer.authority] : []).flatMap((s) => s.records.map((r) => r.ttl));
      expect(ttls(answerQuestion(store, "10-0-0-1.web.default.svc.cluster.local", TYPE.A))).toEqual([ttl]);
      expect(ttls(answerQuestion(store, "1.0.0.10.in-addr.arpa", TYPE.PTR))).toEqual([ttl]);
      expect(ttls(answerQuestion(store, "10-0-0-9.default.pod.cluster.local", TYPE.A))).toEqual([ttl]);
      const negative = answerQuestion(store, "nope.default.svc.cluster.local", TYPE.A);
      expect(ttls(negative)).toEqual([Math.min(ttl, 300)]);
      const soa = negative.kind === "reply" ? negative.authority[0]?.records[0] : undefined;
      expect(soa?.type === "SOA" && soa.minimum).toBe(ttl);
    }
  });
});

describe("RecordStore: the first load", () => {
  function load(s: RecordStore): void {
    s.upsertNamespace({ name: "default" });
    s.upsertEndpointSlice(slice({ name: "db-1", serviceName: "db", endpoints: [endpoint("10.0.0.1", { hostname: "db-0" })] }));
    s.upsertService(service({ name: "db", headless: true }));
    s.upsertService(service({ name: "web", clusterIPs: ["10.96.0.20"] }));
    s.upsertEndpointSlice(slice({ name: "web-1", serviceName: "web", endpoints: [endpoint("10.0.1.1")] }));
  }
  const names = ["db.default.svc.cluster.local", "db-0.db.default.svc.cluster.local", "web.default.svc.cluster.local", reverseName("10.0.0.1") ?? "", reverseName("10.96.0.20") ?? ""];
  /** A store with the load in it, built as each object came or (deferred) left for the end. */
  function loaded(deferred: boolean): RecordStore {
    const s = new RecordStore({ now: () => 1_700_000_000_000 });
    if (deferred) s.deferBuilds();
    load(s);
    return s;
  }

  it("builds each Service once at the end of a deferred load, with the records an immediate build gives", () => {
    const immediate = loaded(false);
    const deferred = loaded(true);
    for (const name of names) expect(at(deferred, name)).toBeUndefined();
    deferred.markSynced();
    expect(deferred.buildSome(Infinity)).toBe(false);
    for (const name of names) expect(at(deferred, name)).toEqual(at(immediate, name));
    expect(at(deferred, "db.default.svc.cluster.local")).toEqual(["A 10.0.0.1"]);
  });

  it("builds the first load's Services after the sync a few at a time, and a read builds what it needs at once", () => {
    const immediate = loaded(false);
    const s = loaded(true);
    s.markSynced();
    expect(s.buildSome(0)).toBe(true); // nothing built yet
    // A name under one Service builds that Service alone.
    expect(at(s, "web.default.svc.cluster.local")).toEqual(at(immediate, "web.default.svc.cluster.local"));
    expect(s.buildSome(0)).toBe(true); // db is still unbuilt
    expect(at(s, "db-0.db.default.svc.cluster.local")).toEqual(["A 10.0.0.1"]);
    expect(s.buildSome(0)).toBe(false);
    for (const name of names) expect(at(s, name)).toEqual(at(immediate, name));
  });

  it("builds every Service still unbuilt before reading a name no single Service owns", () => {
    for (const name of [reverseName("10.96.0.20") ?? "", "default.svc.cluster.local"]) {
      const s = loaded(true);
      s.markSynced();
      s.lookup(name);
      expect(s.buildSome(0)).toBe(false);
    }
    // Names the Services never make build nothing.
    const s = loaded(true);
    s.markSynced();
    for (const name of ["example.com", "10-0-0-1.default.pod.cluster.local", "dns-version.cluster.local", "nope.default.svc.cluster.local"]) s.lookup(name);
    expect(s.buildSome(0)).toBe(true);
  });

  it("builds a change to an unbuilt Service at once, and takes the scope of a name after its build", () => {
    const s = loaded(true);
    s.markSynced();
    s.upsertService(service({ name: "web", clusterIPs: ["10.96.0.21"] }));
    const scope = s.scopeOf("db.default.svc.cluster.local");
    expect(at(s, "db.default.svc.cluster.local")).toEqual(["A 10.0.0.1"]);
    expect(s.scopeOf("db.default.svc.cluster.local")).toBe(scope);
    expect(at(s, "web.default.svc.cluster.local")).toEqual(["A 10.96.0.21"]);
    s.deleteService("default", "db");
    expect(at(s, "db.default.svc.cluster.local")).toBeUndefined();
    expect(s.buildSome(0)).toBe(false);
  });

  it("files the first load's endpoint addresses for PTRs later, a few at a time, with the same answers", () => {
    const immediate = loaded(false);
    const s = loaded(true);
    s.markSynced();
    s.buildSome(Infinity);
    expect(s.fileAddresses(1)).toBe(true); // one table filed, one left
    const ptr = reverseName("10.0.1.1") ?? "";
    // A read by address files what is left at once.
    expect(at(s, ptr)).toEqual(at(immediate, ptr));
    expect(at(s, ptr)).toEqual(["PTR 10-0-1-1.web.default.svc.cluster.local"]);
    expect(s.fileAddresses(1)).toBe(false);
  });

  it("builds changes at once after the sync, and never defers again", () => {
    const s = loaded(true);
    s.markSynced();
    s.deferBuilds();
    s.upsertService(service({ name: "new", clusterIPs: ["10.96.0.30"] }));
    expect(at(s, "new.default.svc.cluster.local")).toEqual(["A 10.96.0.30"]);
    expect(at(s, "web.default.svc.cluster.local")).toEqual(["A 10.96.0.20"]);
  });
});
