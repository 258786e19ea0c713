// Names outside the cluster zone go to the upstream of the resolv.conf given with --upstream:
// here a real dnsmasq from Debian, in a namespace of its own, serving a test zone. Answers come
// back through signpost-dns over UDP and TCP, are cached, are retried over TCP when the upstream
// truncates, and an ExternalName pointing into the zone gets its target's address appended.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { Dnsmasq } from "../support/dns-upstream.ts";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const big = Array.from({ length: 100 }, (_, i) => `--host-record=big.example.test,192.0.2.${i + 100}`);

let ns = "";
let upstream: Dnsmasq;
let daemon: DnsDaemonProcess;
const q = (...args: string[]) => dig("127.0.0.1", daemon.ports.dns, ...args);

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnsfwd");
  upstream = await Dnsmasq.start({
    records: ["--local=/example.test/", "--host-record=www.example.test,192.0.2.10", "--host-record=cached.example.test,192.0.2.11", ...big],
  });
  const dir = mkdtempSync(join(tmpdir(), "dns-forward-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `# the test's upstream\nnameserver ${upstream.address}\noptions ndots:1\n`);
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", resolvConf]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
});

afterAll(async () => {
  await daemon.kill();
  await upstream.stop();
  await c.core.deleteNamespace({ name: ns });
});

describe("forwarding to a real upstream (dnsmasq)", () => {
  for (const transport of ["+notcp", "+tcp"]) {
    it(`relays answers and NXDOMAIN ${transport === "+tcp" ? "over TCP" : "over UDP"}, with RA set`, async () => {
      const www = await q(transport, "www.example.test", "A");
      expect(www.status).toBe("NOERROR");
      expect(www.answer).toEqual(["www.example.test. A 192.0.2.10"]);
      expect(www.flags).toContain("ra");
      expect((await q(transport, "WWW.Example.TEST", "A")).raw).toContain(";WWW.Example.TEST.\t\tIN\tA");
      expect((await q(transport, "nope.example.test", "A")).status).toBe("NXDOMAIN");
    });
  }

  it("skips a nameserver it has no route to (an IPv6 one in a pod without IPv6) and asks the next, and lives on", async () => {
    // Inside the test's network namespace only loopback exists: fd00:53::1 has no route, so the
    // connect of the query's socket fails at once, as on a kind node's IPv4-only pods.
    const dir = mkdtempSync(join(tmpdir(), "dns-forward-unroutable-"));
    const resolvConf = join(dir, "resolv.conf");
    writeFileSync(resolvConf, `nameserver fd00:53::1\nnameserver ${upstream.address}\n`);
    const second = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", resolvConf]);
    try {
      await eventually(async () => (await second.http("ready")).status === 200, "the second signpost-dns ready");
      for (let i = 0; i < 3; i++) {
        const www = await dig("127.0.0.1", second.ports.dns, "+notcp", `n${i}.www.example.test`, "A");
        expect(www.status).toBe("NXDOMAIN");
      }
      expect((await dig("127.0.0.1", second.ports.dns, "+notcp", "www.example.test", "A")).answer).toEqual(["www.example.test. A 192.0.2.10"]);
      expect(second.alive).toBe(true);
    } finally {
      await second.kill();
    }
  });

  it("caches an answer: the upstream is asked once, and the hit is counted", async () => {
    expect((await q("+notcp", "cached.example.test", "A")).answer).toEqual(["cached.example.test. A 192.0.2.11"]);
    for (let i = 0; i < 3; i++) expect((await q("+notcp", "cached.example.test", "A")).answer).toEqual(["cached.example.test. A 192.0.2.11"]);
    expect(upstream.queriesFor("cached.example.test")).toBe(1);
    const metrics = (await daemon.http("metrics")).body;
    expect(metrics).toMatch(/coredns_cache_hits_total\{server="dns:\/\/127\.0\.0\.1:\d+",view="",zones="\.",type="success"\} [3-9]/);
    expect(metrics).toMatch(/coredns_cache_misses_total\{[^}]*\} \d+/);
  });

  it("retries over TCP when the upstream truncates, and truncates for a client with a small buffer", async () => {
    const full = await q("+notcp", "+bufsize=4096", "big.example.test", "A");
    expect(full.answer).toHaveLength(100);
    expect(full.flags).not.toContain("tc");
    // dnsmasq answers 100 addresses over UDP with TC set, so the forwarder asked again over TCP.
    expect(upstream.queriesFor("big.example.test")).toBeGreaterThanOrEqual(2);
    const small = await q("+notcp", "+noedns", "+ignore", "big.example.test", "A");
    expect(small.flags).toContain("tc");
    expect(small.answer).toEqual([]);
    expect((await q("+tcp", "big.example.test", "A")).answer).toHaveLength(100);
  });

  it("answers an ExternalName asked for A with the CNAME and the upstream's address", async () => {
    await c.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: "www", namespace: ns }, spec: { type: "ExternalName", externalName: "www.example.test" } },
    });
    const name = `www.${ns}.svc.cluster.local`;
    await eventually(async () => (await q("+notcp", name, "A")).answer.length === 2, "the ExternalName is served");
    for (const transport of ["+notcp", "+tcp"]) {
      expect((await q(transport, name, "A")).answer).toEqual([`${name}. CNAME www.example.test.`, "www.example.test. A 192.0.2.10"]);
    }
  });

  it("counts requests and responses under CoreDNS's metric names", async () => {
    const metrics = (await daemon.http("metrics")).body;
    expect(metrics).toMatch(/coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",view="",proto="udp",family="1",type="A"\} \d+/);
    expect(metrics).toMatch(/coredns_dns_requests_total\{[^}]*proto="tcp"[^}]*type="A"\} \d+/);
    expect(metrics).toMatch(/coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} \d+/);
    expect(metrics).toMatch(/coredns_dns_request_duration_seconds_bucket\{[^}]*type="A",le="\+Inf"\} \d+/);
    expect(metrics).toMatch(/signpost_informer_state\{informer="services",state="watching"\} 1/);
  });
});
