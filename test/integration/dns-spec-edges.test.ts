// signpost-dns at the edges of the specification, against the real kube-apiserver, asked by the
// real dig: UDP answers capped at 512 octets without EDNS and 1232 with it (TC set, the whole
// answer over TCP) for a big Service and for a 60 KB upstream answer, ANY answered minimally
// over UDP (RFC 8482), ns.dns.<zone> and the apex NS naming the kube-dns Service this server
// is an endpoint of, publishNotReadyAddresses, dashed IPv6 names ending in "::", and --ttl.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Endpoint, V1EndpointSlice } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess, type DigResult } from "../support/dns-daemon.ts";
import { Dnsmasq } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const TTL = 30;
const MANY = 200;
// 220 TXT records of 250 octets: about 58 KB, which dnsmasq sends whole over TCP only.
const hugeRecords = Array.from({ length: 220 }, (_, i) => `--txt-record=huge.example.test,${String(i).padStart(3, "0")}${"x".repeat(247)}`);

let ns = "";
let upstream: Dnsmasq;
let daemon: DnsDaemonProcess;
let kubeDnsIP = "";
/** The address the daemon listens on: not loopback, so it can be an endpoint of kube-dns. */
let server = "";
const q = (...args: string[]) => dig(server, daemon.ports.dns, ...args);
const fqdn = (name: string) => `${name}.${ns}.svc.cluster.local`;

/** The size dig reports for the response it got. */
function size(result: DigResult): number {
  const match = /MSG SIZE\s+rcvd: (\d+)/.exec(result.raw);
  if (match === null) throw new Error(`no message size in dig's output:\n${result.raw}`);
  return Number(match[1]);
}

/** The TTLs of the records of one section, as dig prints them. */
function ttls(result: DigResult, section: "ANSWER" | "AUTHORITY"): number[] {
  const start = result.raw.indexOf(`;; ${section} SECTION:`);
  if (start < 0) return [];
  const lines = result.raw.slice(start).split("\n").slice(1);
  const end = lines.findIndex((l) => l.trim() === "");
  return lines.slice(0, end < 0 ? lines.length : end).map((l) => Number(l.split(/\s+/)[1]));
}

function slice(name: string, serviceName: string, addressType: "IPv4" | "IPv6", endpoints: V1Endpoint[]): V1EndpointSlice {
  return {
    metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": serviceName, "endpointslice.kubernetes.io/managed-by": "signpost-test" } },
    addressType,
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints,
  };
}

async function headless(name: string, publishNotReadyAddresses = false): Promise<void> {
  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name }, spec: { clusterIP: "None", publishNotReadyAddresses, ports: [{ name: "http", port: 80, protocol: "TCP" }] } },
  });
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnsedge");
  upstream = await Dnsmasq.start({ records: ["--local=/example.test/", "--host-record=www.example.test,192.0.2.10", ...hugeRecords] });
  server = upstream.localAddress;

  // kube-dns with this server as its endpoint, as the Deployment's pods are in a cluster.
  const kubeDns = await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "kube-dns" }, spec: { ports: [{ name: "dns", port: 53, protocol: "UDP" }] } },
  });
  kubeDnsIP = kubeDns.spec?.clusterIP ?? "";
  await c.discovery.createNamespacedEndpointSlice({
    namespace: ns,
    body: slice("kube-dns-1", "kube-dns", "IPv4", [{ addresses: [server], conditions: { ready: true } }]),
  });

  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "web" }, spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }] } },
  });

  await headless("many");
  const many = Array.from({ length: MANY }, (_, i) => ({ addresses: [`10.250.${i >> 8}.${(i & 0xff) + 1}`], conditions: { ready: true } }));
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("many-1", "many", "IPv4", many) });

  // The conditions the EndpointSlice controller writes for a Pod not ready yet, for one
  // terminating, and for a ready one; then what only another controller writes: ready and terminating.
  const notReady: V1Endpoint[] = [
    { addresses: ["10.251.0.1"], conditions: { ready: false, serving: false, terminating: false } },
    { addresses: ["10.251.0.2"], conditions: { ready: false, serving: true, terminating: true } },
    { addresses: ["10.251.0.3"], conditions: { ready: true, serving: true, terminating: false } },
    { addresses: ["10.251.0.4"], conditions: { ready: true, serving: true, terminating: true } },
  ];
  await headless("publish", true);
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("publish-1", "publish", "IPv4", notReady) });
  await headless("strict");
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("strict-1", "strict", "IPv4", notReady) });

  await headless("v6");
  await c.discovery.createNamespacedEndpointSlice({
    namespace: ns,
    body: slice("v6-1", "v6", "IPv6", [{ addresses: ["fd00:10:244::"], conditions: { ready: true } }]),
  });

  const dir = mkdtempSync(join(tmpdir(), "dns-spec-edges-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${upstream.address}\n`);
  daemon = await DnsDaemonProcess.start([
    "--kubeconfig", kubeconfig, "--listen", `${server}:0`, "--upstream", resolvConf, "--ttl", String(TTL),
  ]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(async () => (await q("+tcp", fqdn("v6"), "AAAA")).answer.length === 1, "the objects are served");
}, 120_000);

afterAll(async () => {
  await daemon.kill();
  await upstream.stop();
  await c.core.deleteNamespace({ name: ns });
});

describe("UDP answers are capped; TCP carries the whole answer", () => {
  const big = [
    { what: `a headless Service with ${MANY} endpoints`, name: () => fqdn("many"), type: "A", records: MANY },
    { what: "a forwarded name whose upstream answers 58 KB", name: () => "huge.example.test", type: "TXT", records: hugeRecords.length },
  ];
  for (const { what, name, type, records } of big) {
    it(`${what}: at most 512 octets without EDNS, TC set, no records`, async () => {
      const plain = await q("+notcp", "+ignore", "+noedns", name(), type);
      expect(plain.status).toBe("NOERROR");
      expect(plain.flags).toContain("tc");
      expect(plain.answer).toEqual([]);
      expect(size(plain)).toBeLessThanOrEqual(512);
    });

    it(`${what}: at most 1232 octets for a client offering 4096 or 65535, TC set, OPT 1232`, async () => {
      for (const bufsize of ["+bufsize=4096", "+bufsize=65535"]) {
        const large = await q("+notcp", "+ignore", bufsize, name(), type);
        expect(large.flags).toContain("tc");
        expect(large.answer).toEqual([]);
        expect(size(large)).toBeLessThanOrEqual(1232);
        expect(large.raw).toMatch(/; EDNS: version: 0, flags:; udp: 1232/);
      }
    });

    it(`${what}: whole over TCP`, async () => {
      const whole = await q("+tcp", name(), type);
      expect(whole.status).toBe("NOERROR");
      expect(whole.flags).not.toContain("tc");
      expect(whole.answer).toHaveLength(records);
      expect(size(whole)).toBeGreaterThan(1232);
    });
  }

  it("dig's own fallback to TCP on TC gets the whole answer", async () => {
    expect((await q("+bufsize=4096", fqdn("many"), "A")).answer).toHaveLength(MANY);
  });
});

describe("ANY (RFC 8482)", () => {
  it("gets one record set of a cluster name over UDP, and every set over TCP", async () => {
    const udp = await q("+notcp", fqdn("web"), "ANY");
    expect(udp.status).toBe("NOERROR");
    expect(udp.answer.map((l) => l.split(" ")[1])).toEqual(["A"]);
    const tcp = await q("+tcp", fqdn("web"), "ANY");
    expect(tcp.answer.map((l) => l.split(" ")[1]).sort()).toEqual(["A", "SRV"]);
  });

  it("gets HINFO for a name outside the zone over UDP, without asking the upstream; over TCP it is forwarded", async () => {
    const udp = await q("+notcp", "huge.example.test", "ANY");
    expect(udp.status).toBe("NOERROR");
    expect(udp.answer).toEqual(['huge.example.test. HINFO "ANY obsoleted" "See RFC 8482"']);
    expect(size(udp)).toBeLessThan(100);
    expect(upstream.log).not.toContain("query[ANY]");
    const tcp = await q("+tcp", "www.example.test", "ANY");
    expect(tcp.answer).toContain("www.example.test. A 192.0.2.10");
    expect(upstream.log).toContain("query[ANY] www.example.test");
  });
});

describe("the zone's name server", () => {
  it("ns.dns.<zone> resolves to the cluster IP of the kube-dns Service whose endpoint this server is", async () => {
    const a = await q("+notcp", "ns.dns.cluster.local", "A");
    expect(a.status).toBe("NOERROR");
    expect(a.answer).toEqual([`ns.dns.cluster.local. A ${kubeDnsIP}`]);
    const aaaa = await q("+notcp", "ns.dns.cluster.local", "AAAA");
    expect({ status: aaaa.status, answer: aaaa.answer }).toEqual({ status: "NOERROR", answer: [] });
    expect((await q("+notcp", "dns.cluster.local", "A")).status).toBe("NOERROR");
  });

  it("the apex NS names kube-dns, with its cluster IP as glue", async () => {
    const apex = await q("+notcp", "cluster.local", "NS");
    expect(apex.answer).toEqual([`cluster.local. NS ${fqdn("kube-dns")}.`]);
    expect(apex.additional).toEqual([`${fqdn("kube-dns")}. A ${kubeDnsIP}`]);
  });
});

describe("EndpointSlice conditions", () => {
  it("publishNotReadyAddresses publishes endpoints that are not ready, terminating ones included", async () => {
    const published = await q("+notcp", fqdn("publish"), "A");
    expect(published.answer).toEqual(["10.251.0.1", "10.251.0.2", "10.251.0.3", "10.251.0.4"].map((ip) => `${fqdn("publish")}. A ${ip}`));
    expect((await q("+notcp", `10-251-0-1.${fqdn("publish")}`, "A")).answer).toEqual([`10-251-0-1.${fqdn("publish")}. A 10.251.0.1`]);
  });

  it("without it, only the ready endpoint that is not terminating is published", async () => {
    expect((await q("+notcp", fqdn("strict"), "A")).answer).toEqual([`${fqdn("strict")}. A 10.251.0.3`]);
    expect((await q("+notcp", `10-251-0-1.${fqdn("strict")}`, "A")).status).toBe("NXDOMAIN");
    expect((await q("+notcp", `10-251-0-4.${fqdn("strict")}`, "A")).status).toBe("NXDOMAIN");
  });
});

describe("dashed IPv6 names", () => {
  it("an endpoint address ending in :: is named with a trailing 0, which resolves back, and its PTR points there", async () => {
    const name = `fd00-10-244--0.${fqdn("v6")}`;
    expect((await q("+notcp", name, "AAAA")).answer).toEqual([`${name}. AAAA fd00:10:244::`]);
    expect((await q("+notcp", "-x", "fd00:10:244::")).answer).toEqual([
      `${"0.".repeat(20)}4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa. PTR ${name}.`,
    ]);
  });
});

describe("--ttl", () => {
  it(`gives cluster records TTL ${TTL} and negative answers an SOA with minimum ${TTL}`, async () => {
    const web = await q("+notcp", fqdn("web"), "A");
    expect(ttls(web, "ANSWER")).toEqual([TTL]);
    const nx = await q("+notcp", fqdn("nope"), "A");
    expect(nx.status).toBe("NXDOMAIN");
    expect(ttls(nx, "AUTHORITY")).toEqual([TTL]);
    expect(nx.authority[0]).toMatch(new RegExp(` 7200 1800 86400 ${TTL}$`));
  });
});
