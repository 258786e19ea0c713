// signpost-dns's hosts, rewrite, loadbalance and kubernetes options as an operator sets them in
// the --config file, against the real kube-apiserver, asked by the real dig: hosts entries
// inline and from a file re-read when it changes (and refused past its size bound), names
// rewritten to cluster and upstream names with the answer given back under the asked name,
// A records rotating in cluster and forwarded answers, only the listed namespaces served,
// endpoints named by their Pods, PTR answered only inside the reverse CIDRs; then a reload that
// changes hosts, rewrite and loadbalance live. The upstream is a real dnsmasq in a network
// namespace of the test's making.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { Dnsmasq } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const dir = mkdtempSync(join(tmpdir(), "dns-plugins-"));
const hostsFile = join(dir, "hosts");
const configFile = join(dir, "dns.yaml");

let ns = "";
let other = "";
let webIP = "";
let upstream: Dnsmasq;
let daemon: DnsDaemonProcess;
const q = (...args: string[]) => dig("127.0.0.1", daemon.ports.dns, ...args);
const fqdn = (name: string, namespace = ns) => `${name}.${namespace}.svc.cluster.local`;
const messages = (text: string) => daemon.lines.filter((l) => typeof l["msg"] === "string" && l["msg"].startsWith(text));

function config(variant: "first" | "second"): string {
  const first = variant === "first";
  return [
    "apiVersion: signpost.dev/v1alpha1",
    "kind: DNSConfiguration",
    "cluster:",
    `  namespaces: [${ns}]`,
    "  endpointPodNames: true",
    `  reverseCIDRs: [${webIP}/32, ${neighbour(webIP)}/32]`,
    "  fallthrough: false",
    "forward:",
    `  - {zone: ., to: [${upstream.address}]}`,
    "hosts:",
    `  file: ${hostsFile}`,
    `  entries: ["${first ? "10.9.9.9" : "10.9.9.10"} inline.example.corp"]`,
    "  zones: [example.corp]",
    "  ttl: 60",
    "  reload: 200ms",
    "  maxFileSize: 4Ki",
    "rewrite:",
    first
      ? `  - {match: suffix, from: .internal.corp, to: .${ns}.svc.cluster.local}`
      : `  - {match: regex, from: '^(.*)\\.apps\\.corp\\.$', to: '{1}.${ns}.svc.cluster.local'}`,
    "  - {from: www.example.org, to: multi.example.test}",
    ...(first ? ["loadbalance: round_robin"] : []),
    "",
  ].join("\n");
}

/** The address next to `ip` in its /31: no Service of the test's namespace has it. */
function neighbour(ip: string): string {
  const octets = ip.split(".").map(Number);
  octets[3] = (octets[3] ?? 0) ^ 1;
  return octets.join(".");
}

function slice(name: string, serviceName: string, endpoints: { ip: string; pod?: string }[]): V1EndpointSlice {
  return {
    metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": serviceName, "endpointslice.kubernetes.io/managed-by": "signpost-test" } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: endpoints.map(({ ip, pod }) => ({
      addresses: [ip],
      conditions: { ready: true },
      ...(pod === undefined ? {} : { targetRef: { kind: "Pod", name: pod, namespace: ns } }),
    })),
  };
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "dns-plugins");
  other = await createNamespace(c.core, "dns-plugins-other");
  const web = await c.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "web" }, spec: { ports: [{ name: "http", port: 80 }] } } });
  webIP = web.spec?.clusterIP ?? "";
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("web-1", "web", [{ ip: "10.244.7.1" }]) });
  await c.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "pool" }, spec: { clusterIP: "None", ports: [{ name: "http", port: 80 }] } } });
  await c.discovery.createNamespacedEndpointSlice({
    namespace: ns,
    body: slice("pool-1", "pool", [{ ip: "10.244.8.1", pod: "pool-abc" }, { ip: "10.244.8.2", pod: "pool-def" }, { ip: "10.244.8.3" }]),
  });
  await c.core.createNamespacedService({ namespace: other, body: { metadata: { name: "hidden" }, spec: { ports: [{ name: "http", port: 80 }] } } });
  upstream = await Dnsmasq.start({ records: ["--host-record=multi.example.test,192.0.2.11", "--host-record=multi.example.test,192.0.2.12", "--host-record=multi.example.test,192.0.2.13"] });
  writeFileSync(hostsFile, "10.8.8.8 db.example.corp db-alias.example.corp\n");
  writeFileSync(configFile, config("first"));
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--config", configFile, "--config-poll-interval", "200ms"]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(async () => (await q(fqdn("pool"), "A")).answer.length === 3, "the objects are served");
});

afterAll(async () => {
  await daemon.kill();
  await upstream.stop();
  await c.core.deleteNamespace({ name: ns });
  await c.core.deleteNamespace({ name: other });
});

describe("hosts", () => {
  for (const transport of ["+notcp", "+tcp"]) {
    it(`answers inline and file entries with their ttl, PTR from them, NXDOMAIN for others of its zone (${transport})`, async () => {
      expect((await q(transport, "inline.example.corp", "A")).answer).toEqual(["inline.example.corp. A 10.9.9.9"]);
      const db = await q(transport, "+ttlid", "db-alias.example.corp", "A");
      expect(db.flags).toContain("aa");
      expect(db.raw).toMatch(/^db-alias\.example\.corp\.\s+60\s+IN\s+A\s+10\.8\.8\.8$/m);
      expect((await q(transport, "-x", "10.8.8.8")).answer).toEqual(["8.8.8.10.in-addr.arpa. PTR db.example.corp.", "8.8.8.10.in-addr.arpa. PTR db-alias.example.corp."]);
      expect((await q(transport, "db.example.corp", "AAAA")).status).toBe("NOERROR");
      expect((await q(transport, "missing.example.corp", "A")).status).toBe("NXDOMAIN");
      // Outside its zones, names go on: to the cluster, and to the upstream.
      expect((await q(transport, fqdn("web"), "A")).answer).toEqual([`${fqdn("web")}. A ${webIP}`]);
    });
  }

  it("re-reads the hosts file when it changes, and keeps the last version when it grows past maxFileSize", async () => {
    writeFileSync(hostsFile, "10.8.8.9 db.example.corp\n10.8.8.10 new.example.corp\n");
    await eventually(async () => (await q("new.example.corp", "A")).answer.length === 1, "the new hosts file served");
    expect((await q("db.example.corp", "A")).answer).toEqual(["db.example.corp. A 10.8.8.9"]);
    writeFileSync(hostsFile, `10.8.8.11 db.example.corp\n${"# padding\n".repeat(500)}`);
    await eventually(() => messages("hosts file refused").length === 1, "the large hosts file refused");
    expect(String(messages("hosts file refused")[0]?.["msg"])).toContain("SP_HOSTS_FILE_TOO_LARGE");
    expect((await q("db.example.corp", "A")).answer).toEqual(["db.example.corp. A 10.8.8.9"]);
    // The inline entries serve through it all.
    expect((await q("inline.example.corp", "A")).answer).toEqual(["inline.example.corp. A 10.9.9.9"]);
    // db and new from the file, inline from the configuration.
    expect((await daemon.http("metrics")).body).toMatch(/^coredns_hosts_entries 3$/m);
    expect((await daemon.http("metrics")).body).toMatch(/^coredns_hosts_reload_timestamp_seconds [1-9][0-9.]+$/m);
  });
});

describe("rewrite", () => {
  it("rewrites a suffix to the cluster zone and answers under the asked name", async () => {
    const r = await q("Web.Internal.Corp", "A");
    expect(r.status).toBe("NOERROR");
    expect(r.answer).toEqual([`Web.Internal.Corp. A ${webIP}`]);
  });

  it("rewrites an exact name to an upstream name, the upstream asked the new one", async () => {
    const r = await q("www.example.org", "A");
    expect(r.answer.map((l) => l.split(" ")[0])).toEqual(["www.example.org.", "www.example.org.", "www.example.org."]);
    expect(r.answer.map((l) => l.split(" ")[2]).sort()).toEqual(["192.0.2.11", "192.0.2.12", "192.0.2.13"]);
    expect(upstream.queriesFor("multi.example.test")).toBeGreaterThan(0);
    expect(upstream.queriesFor("www.example.org")).toBe(0);
  });
});

describe("loadbalance round_robin", () => {
  it("rotates the A records of cluster answers (cached ones too) and forwarded answers", async () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i++) firsts.add((await q(fqdn("pool"), "A")).answer[0] ?? "");
    expect(firsts.size).toBe(3);
    const upstreamFirsts = new Set<string>();
    for (let i = 0; i < 3; i++) upstreamFirsts.add((await q("multi.example.test", "A")).answer[0] ?? "");
    expect(upstreamFirsts.size).toBe(3);
  });
});

describe("kubernetes options", () => {
  it("serves only the listed namespaces", async () => {
    expect((await q(fqdn("hidden", other), "A")).status).toBe("NXDOMAIN");
    expect((await q(`${other}.svc.cluster.local`, "A")).status).toBe("NXDOMAIN");
  });

  it("names endpoints by their Pod when they have no hostname, by their address when they have no Pod", async () => {
    expect((await q(`pool-abc.${fqdn("pool")}`, "A")).answer).toEqual([`pool-abc.${fqdn("pool")}. A 10.244.8.1`]);
    expect((await q(`10-244-8-3.${fqdn("pool")}`, "A")).answer).toEqual([`10-244-8-3.${fqdn("pool")}. A 10.244.8.3`]);
    expect((await q(`10-244-8-1.${fqdn("pool")}`, "A")).status).toBe("NXDOMAIN");
  });

  it("answers PTR inside the reverse CIDRs only, and NXDOMAIN there for an unknown address without fallthrough", async () => {
    expect((await q("-x", webIP)).answer).toEqual([`${webIP.split(".").reverse().join(".")}.in-addr.arpa. PTR ${fqdn("web")}.`]);
    expect((await q("-x", neighbour(webIP))).status).toBe("NXDOMAIN");
    // An endpoint's address is outside the CIDRs: not the cluster's to answer, so it goes upstream.
    await q("-x", "10.244.7.1");
    expect(upstream.queriesFor("1.7.244.10.in-addr.arpa")).toBe(1);
  });
});

describe("noEndpoints", () => {
  it("keeps ClusterIP Services' records and drops every endpoint record", async () => {
    const file = join(dir, "no-endpoints.yaml");
    writeFileSync(file, `apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\ncluster: {noEndpoints: true}\nforward: [{zone: ., to: [${upstream.address}]}]\n`);
    const served = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--config", file]);
    const ask = (...args: string[]) => dig("127.0.0.1", served.ports.dns, ...args);
    try {
      await eventually(async () => (await served.http("ready")).status === 200, "the second signpost-dns ready");
      expect((await ask(fqdn("web"), "A")).answer).toEqual([`${fqdn("web")}. A ${webIP}`]);
      expect((await ask(`_http._tcp.${fqdn("web")}`, "SRV")).answer).toEqual([`_http._tcp.${fqdn("web")}. SRV 0 100 80 ${fqdn("web")}.`]);
      expect((await ask(fqdn("pool"), "A")).status).toBe("NXDOMAIN");
      expect((await ask(`10-244-8-3.${fqdn("pool")}`, "A")).status).toBe("NXDOMAIN");
      // The cluster keeps no PTR for an endpoint: its reverse name goes upstream.
      const before = upstream.queriesFor("1.7.244.10.in-addr.arpa");
      await ask("-x", "10.244.7.1");
      expect(upstream.queriesFor("1.7.244.10.in-addr.arpa")).toBe(before + 1);
    } finally {
      await served.kill();
    }
  });
});

describe("a reload", () => {
  it("changes hosts, rewrite and loadbalance live", async () => {
    writeFileSync(configFile, config("second"));
    await eventually(() => messages("configuration reloaded").length === 1, "the second version reloaded");
    await eventually(async () => (await q("inline.example.corp", "A")).answer[0] === "inline.example.corp. A 10.9.9.10", "the new inline entry served");
    expect((await q("db.example.corp", "A")).answer).toEqual(["db.example.corp. A 10.8.8.9"]);
    expect((await q("web.apps.corp", "A")).answer).toEqual([`web.apps.corp. A ${webIP}`]);
    expect((await q("web.internal.corp", "A")).status).not.toBe("NOERROR");
    const orders = new Set<string>();
    for (let i = 0; i < 3; i++) orders.add((await q(fqdn("pool"), "A")).answer.join(","));
    expect(orders.size).toBe(1);
    expect(messages("these fields changed")).toEqual([]);
  });
});
