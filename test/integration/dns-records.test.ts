// signpost-dns against the real kube-apiserver, asked by the real dig over UDP and TCP: every
// record kind of the Kubernetes DNS specification from Services and EndpointSlices made through
// the API, changes followed as they are watched, and SERVFAIL until the first sync.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, service } from "../support/kube.ts";
import { TcpFaultProxy } from "../support/tcp-fault-proxy.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const dir = mkdtempSync(join(tmpdir(), "dns-records-"));
// Nothing answers here: these tests never need the upstream (ExternalName is asked for CNAME).
const upstream = join(dir, "resolv.conf");
writeFileSync(upstream, "nameserver 127.0.0.1\n");

let ns = "";
let daemon: DnsDaemonProcess;
let nginxIP = "";
const q = (transport: string, name: string, type: string) => dig("127.0.0.1", daemon.ports.dns, transport, name, type);
const fqdn = (name: string) => `${name}.${ns}.svc.cluster.local`;

function slice(name: string, serviceName: string, addressType: "IPv4" | "IPv6", endpoints: { ip: string; hostname?: string }[]): V1EndpointSlice {
  return {
    metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": serviceName, "endpointslice.kubernetes.io/managed-by": "signpost-test" } },
    addressType,
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: endpoints.map(({ ip, hostname }) => ({
      addresses: [ip],
      conditions: { ready: true },
      ...(hostname === undefined ? {} : { hostname }),
    })),
  };
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "dns");
  const nginx = await c.core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: "nginx", namespace: ns },
      spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "dns", port: 53, protocol: "UDP" }] },
    },
  });
  nginxIP = nginx.spec?.clusterIP ?? "";
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("nginx-1", "nginx", "IPv4", [{ ip: "10.244.1.5" }]) });
  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "web", namespace: ns }, spec: { clusterIP: "None", ports: [{ name: "http", port: 80, protocol: "TCP" }] } },
  });
  await c.discovery.createNamespacedEndpointSlice({
    namespace: ns,
    body: slice("web-1", "web", "IPv4", [
      { ip: "10.244.2.10", hostname: "web-0" },
      { ip: "10.244.2.11", hostname: "web-1" },
      { ip: "10.244.2.12" },
    ]),
  });
  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "web6", namespace: ns }, spec: { clusterIP: "None", ports: [{ name: "http", port: 80, protocol: "TCP" }] } },
  });
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("web6-1", "web6", "IPv6", [{ ip: "fd00:10:244::5" }]) });
  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "search", namespace: ns }, spec: { type: "ExternalName", externalName: "search.example.org" } },
  });
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", upstream]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(async () => (await q("+notcp", fqdn("web6"), "AAAA")).answer.length === 1, "the objects are served");
});

afterAll(async () => {
  await daemon.kill();
  await c.core.deleteNamespace({ name: ns });
});

describe("signpost-dns against kube-apiserver, asked by dig", () => {
  for (const transport of ["+notcp", "+tcp"]) {
    describe(`over ${transport === "+tcp" ? "TCP" : "UDP"}`, () => {
      it("answers A for a ClusterIP Service with the IP the API server allocated, authoritatively", async () => {
        const r = await q(transport, fqdn("nginx"), "A");
        expect(r.status).toBe("NOERROR");
        expect(r.flags).toContain("aa");
        expect(r.answer).toEqual([`${fqdn("nginx")}. A ${nginxIP}`]);
      });

      it("answers SRV per named port, and all of them on the Service name, with glue", async () => {
        const http = await q(transport, `_http._tcp.${fqdn("nginx")}`, "SRV");
        expect(http.answer).toEqual([`_http._tcp.${fqdn("nginx")}. SRV 0 100 80 ${fqdn("nginx")}.`]);
        expect(http.additional).toEqual([`${fqdn("nginx")}. A ${nginxIP}`]);
        const dns = await q(transport, `_dns._udp.${fqdn("nginx")}`, "SRV");
        expect(dns.answer).toEqual([`_dns._udp.${fqdn("nginx")}. SRV 0 100 53 ${fqdn("nginx")}.`]);
        const bare = await q(transport, fqdn("nginx"), "SRV");
        expect([...bare.answer].sort()).toEqual([`${fqdn("nginx")}. SRV 0 50 53 ${fqdn("nginx")}.`, `${fqdn("nginx")}. SRV 0 50 80 ${fqdn("nginx")}.`]);
      });

      it("answers PTR for the ClusterIP", async () => {
        const r = await q(transport, "-x", nginxIP);
        expect(r.answer).toEqual([`${nginxIP.split(".").reverse().join(".")}.in-addr.arpa. PTR ${fqdn("nginx")}.`]);
      });

      it("answers a headless Service with its ready endpoints, by hostname and by dashed IP", async () => {
        expect((await q(transport, fqdn("web"), "A")).answer).toEqual([
          `${fqdn("web")}. A 10.244.2.10`,
          `${fqdn("web")}. A 10.244.2.11`,
          `${fqdn("web")}. A 10.244.2.12`,
        ]);
        expect((await q(transport, `web-1.${fqdn("web")}`, "A")).answer).toEqual([`web-1.${fqdn("web")}. A 10.244.2.11`]);
        expect((await q(transport, `10-244-2-12.${fqdn("web")}`, "A")).answer).toEqual([`10-244-2-12.${fqdn("web")}. A 10.244.2.12`]);
        const srv = await q(transport, `_http._tcp.${fqdn("web")}`, "SRV");
        expect(srv.answer).toEqual([
          `_http._tcp.${fqdn("web")}. SRV 0 33 8080 10-244-2-12.${fqdn("web")}.`,
          `_http._tcp.${fqdn("web")}. SRV 0 33 8080 web-0.${fqdn("web")}.`,
          `_http._tcp.${fqdn("web")}. SRV 0 33 8080 web-1.${fqdn("web")}.`,
        ]);
        expect(srv.additional).toContain(`web-0.${fqdn("web")}. A 10.244.2.10`);
        expect((await q(transport, "-x", "10.244.2.10")).answer).toEqual([`10.2.244.10.in-addr.arpa. PTR web-0.${fqdn("web")}.`]);
      });

      it("answers AAAA and an ip6.arpa PTR for IPv6 endpoints of a headless Service", async () => {
        expect((await q(transport, fqdn("web6"), "AAAA")).answer).toEqual([`${fqdn("web6")}. AAAA fd00:10:244::5`]);
        const ptr = await q(transport, "-x", "fd00:10:244::5");
        expect(ptr.answer).toEqual([
          `5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa. PTR fd00-10-244--5.${fqdn("web6")}.`,
        ]);
      });

      it("answers a CNAME for an ExternalName Service", async () => {
        expect((await q(transport, fqdn("search"), "CNAME")).answer).toEqual([`${fqdn("search")}. CNAME search.example.org.`]);
      });

      it("answers the schema version, NODATA and NXDOMAIN with the zone's SOA", async () => {
        expect((await q(transport, "dns-version.cluster.local", "TXT")).answer).toEqual(['dns-version.cluster.local. TXT "1.1.0"']);
        const nodata = await q(transport, fqdn("nginx"), "AAAA");
        expect(nodata.status).toBe("NOERROR");
        expect(nodata.answer).toEqual([]);
        expect(nodata.authority[0]).toMatch(/^cluster\.local\. SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/);
        const nx = await q(transport, fqdn("missing"), "A");
        expect(nx.status).toBe("NXDOMAIN");
        expect(nx.authority[0]).toMatch(/^cluster\.local\. SOA /);
        expect((await q(transport, `${ns}.svc.cluster.local`, "A")).status).toBe("NOERROR");
        expect((await q(transport, "no-such-namespace-x.svc.cluster.local", "A")).status).toBe("NXDOMAIN");
      });
    });
  }

  it("answers a Service once it is created, and NXDOMAIN once it is deleted", async () => {
    const created = await c.core.createNamespacedService({ namespace: ns, body: service(ns, "late") });
    const ip = created.spec?.clusterIP ?? "";
    const started = Date.now();
    await eventually(async () => (await q("+notcp", fqdn("late"), "A")).answer.includes(`${fqdn("late")}. A ${ip}`), "late resolves");
    console.error(`[dns-records] a new Service resolved ${Date.now() - started} ms after its create returned`);
    await c.core.deleteNamespacedService({ namespace: ns, name: "late" });
    await eventually(async () => (await q("+tcp", fqdn("late"), "A")).status === "NXDOMAIN", "late is NXDOMAIN");
  });

  it("follows an ExternalName change to the new CNAME", async () => {
    await c.core.patchNamespacedService({
      namespace: ns,
      name: "search",
      body: [{ op: "replace", path: "/spec/externalName", value: "find.example.net" }],
    });
    await eventually(
      async () => (await q("+notcp", fqdn("search"), "CNAME")).answer.includes(`${fqdn("search")}. CNAME find.example.net.`),
      "the new CNAME is served",
    );
    expect((await q("+tcp", fqdn("search"), "CNAME")).answer).toEqual([`${fqdn("search")}. CNAME find.example.net.`]);
  });

  it("answers SERVFAIL and is not ready until the first sync, then answers", async () => {
    const server = new URL(c.kc.getCurrentCluster()?.server ?? "");
    const proxy = await TcpFaultProxy.start({ host: server.hostname, port: Number(server.port) });
    proxy.block();
    const viaProxy = join(dir, "via-proxy.kubeconfig");
    writeFileSync(viaProxy, readFileSync(kubeconfig, "utf8").replace(server.origin, `https://${server.hostname}:${proxy.port}`));
    const cut = await DnsDaemonProcess.start(["--kubeconfig", viaProxy, "--listen", "127.0.0.1:0", "--upstream", upstream]);
    try {
      const early = await dig("127.0.0.1", cut.ports.dns, "+notcp", fqdn("missing"), "A");
      expect(early.status).toBe("SERVFAIL");
      expect((await cut.http("ready")).status).toBe(503);
      expect((await cut.http("health")).status).toBe(200);
      proxy.unblock();
      await eventually(async () => (await cut.http("ready")).status === 200, "ready after the API server is reachable");
      expect((await dig("127.0.0.1", cut.ports.dns, "+notcp", fqdn("nginx"), "A")).answer).toEqual([`${fqdn("nginx")}. A ${nginxIP}`]);
      expect((await dig("127.0.0.1", cut.ports.dns, "+tcp", fqdn("missing"), "A")).status).toBe("NXDOMAIN");
    } finally {
      await cut.kill();
      await proxy.close();
    }
  });
});
