// signpost-dns as an operator runs it: offline mode serving a real `kubectl get -o yaml` dump of
// the control plane, a clear one-line refusal for each bad flag and for an upstream that would
// loop back to itself, and the lameduck shutdown on SIGTERM (/health 200, /ready 503, still
// answering, then exit 0).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controlPlaneBinDir, requireBinary } from "../support/localcluster/binaries.ts";
import { binRuns } from "../support/bin-entry.ts";
import { dig, DnsDaemonProcess, runDnsBin } from "../support/dns-daemon.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, endpointSlice, service } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const dir = mkdtempSync(join(tmpdir(), "dns-daemon-"));
const upstream = join(dir, "resolv.conf");
writeFileSync(upstream, "nameserver 127.0.0.1\n");
const kubectl = requireBinary(controlPlaneBinDir(), "kubectl");

let ns = "";
let webIP = "";

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnsoff");
  webIP = (await c.core.createNamespacedService({ namespace: ns, body: service(ns, "web") })).spec?.clusterIP ?? "";
  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "db", namespace: ns }, spec: { clusterIP: "None", ports: [{ name: "pg", port: 5432, protocol: "TCP" }] } },
  });
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: endpointSlice(ns, "db-1", "db", ["10.244.7.1", "10.244.7.2"]) });
});

afterAll(async () => {
  await c.core.deleteNamespace({ name: ns });
});

describe("offline mode (--objects)", () => {
  for (const format of ["yaml", "json"]) {
    it(`serves a kubectl get -o ${format} dump of the cluster with no API server`, async () => {
      const dump = await execa(kubectl, ["--kubeconfig", kubeconfig, "get", "namespaces,services,endpointslices,pods", "-A", "-o", format]);
      const file = join(dir, `dump.${format}`);
      writeFileSync(file, dump.stdout);
      const daemon = await DnsDaemonProcess.start(["--objects", file, "--listen", "127.0.0.1:0", "--upstream", upstream]);
      try {
        expect((await daemon.http("ready")).status).toBe(200);
        for (const transport of ["+notcp", "+tcp"]) {
          const web = await dig("127.0.0.1", daemon.ports.dns, transport, `web.${ns}.svc.cluster.local`, "A");
          expect(web.answer).toEqual([`web.${ns}.svc.cluster.local. A ${webIP}`]);
          const db = await dig("127.0.0.1", daemon.ports.dns, transport, `db.${ns}.svc.cluster.local`, "A");
          expect(db.answer).toEqual([`db.${ns}.svc.cluster.local. A 10.244.7.1`, `db.${ns}.svc.cluster.local. A 10.244.7.2`]);
          const kubernetes = await dig("127.0.0.1", daemon.ports.dns, transport, "kubernetes.default.svc.cluster.local", "A");
          expect(kubernetes.answer).toHaveLength(1);
          expect((await dig("127.0.0.1", daemon.ports.dns, transport, `gone.${ns}.svc.cluster.local`, "A")).status).toBe("NXDOMAIN");
        }
        const loaded = daemon.lines.find((l) => l["msg"] === "objects loaded: answering offline");
        expect(loaded).toMatchObject({ file, invalid: 0 });
        // hack/setup.sh bundles the daemon; the bin runs that bundle while it is fresh.
        expect(daemon.lines.find((l) => l["msg"] === "starting")).toMatchObject({ code: binRuns("signpost-dns") });
      } finally {
        await daemon.kill();
      }
    });
  }
});

describe("refusing to start", () => {
  const cases: readonly (readonly [string, string[], RegExp])[] = [
    ["an unknown flag", ["--listn", "127.0.0.1:53"], /^signpost-dns: SP_BAD_FLAG: --listn: Unknown option '--listn'/],
    ["a listen address without a port", ["--listen", "127.0.0.1"], /^signpost-dns: SP_BAD_FLAG: --listen: "127.0.0.1" is not HOST:PORT/],
    ["a bad pods mode", ["--pods", "everything"], /^signpost-dns: SP_BAD_FLAG: --pods: "everything" is not one of disabled, insecure, verified/],
    ["a bad zone", ["--zone", "cluster..local"], /^signpost-dns: SP_BAD_FLAG: --zone: "cluster..local" is not a domain name/],
    ["a bad duration", ["--lameduck", "soon"], /^signpost-dns: SP_BAD_FLAG: --lameduck: "soon" is not a duration/],
    ["a port out of range", ["--metrics-port", "65536"], /^signpost-dns: SP_BAD_FLAG: --metrics-port: 65536 is outside 0\.\.65535/],
    ["--objects with --kubeconfig", ["--objects", "x.yaml", "--kubeconfig", "k"], /^signpost-dns: SP_BAD_FLAG: --objects: serves a file without an API server/],
    ["a missing resolv.conf", ["--upstream", "/nonexistent/resolv.conf"], /^signpost-dns: SP_BAD_CONFIG: --upstream \/nonexistent\/resolv.conf: the resolv.conf does not exist/],
    ["a missing objects file", ["--objects", "/nonexistent/dump.yaml", "--listen", "127.0.0.1:0", "--upstream", upstream], /^signpost-dns: SP_BAD_CONFIG: --objects \/nonexistent\/dump.yaml: the file does not exist/],
    ["a missing kubeconfig", ["--kubeconfig", "/nonexistent/kubeconfig", "--listen", "127.0.0.1:0", "--upstream", upstream], /^signpost-dns: SP_BAD_KUBECONFIG: \/nonexistent\/kubeconfig: the file does not exist/],
    ["an empty --objects", ["--objects", ""], /^signpost-dns: SP_BAD_FLAG: --objects: is empty; give the path of a v1 List/],
    ["two side servers on one port", ["--ready-port", "8080"], /^signpost-dns: SP_BAD_FLAG: --ready-port: 8080 is also --health-port; each side server needs a port of its own/],
    ["a side server on the DNS port", ["--listen", "127.0.0.1:9153"], /^signpost-dns: SP_BAD_FLAG: --metrics-port: 9153 is the DNS port of --listen/],
    ["an upstream that is itself", ["--listen", "0.0.0.0:53", "--upstream", upstream], /^signpost-dns: SP_DNS_LOOP: --upstream .*resolv.conf: nameserver 127.0.0.1 is signpost-dns's own listen address 0.0.0.0:53: forwarding there would loop/],
  ];
  for (const [what, args, message] of cases) {
    it(`on ${what}, with exit code 2 and one line saying why`, async () => {
      const r = await runDnsBin(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  it("on a DNS port already taken", async () => {
    const file = join(dir, "one.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n");
    const first = await DnsDaemonProcess.start(["--objects", file, "--listen", "127.0.0.1:0", "--upstream", upstream]);
    try {
      const r = await runDnsBin(["--objects", file, "--listen", `127.0.0.1:${first.ports.dns}`, "--upstream", upstream, "--health-port", "0", "--ready-port", "0", "--metrics-port", "0"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^signpost-dns: SP_LISTEN: --listen 127.0.0.1:${first.ports.dns}: cannot listen for DNS`));
    } finally {
      await first.kill();
    }
  });
});

describe("shutdown", () => {
  it("on SIGTERM keeps /health 200 and answering while /ready is 503 for the lameduck period, then exits 0", async () => {
    const daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", upstream, "--lameduck", "4s"]);
    await eventually(async () => (await daemon.http("ready")).status === 200, "ready");
    daemon.signal("SIGTERM");
    await eventually(async () => (await daemon.http("ready")).status === 503, "/ready fails in lameduck");
    expect(await daemon.http("ready")).toEqual({ status: 503, body: "shutting down (lameduck)\n" });
    expect(await daemon.http("health")).toEqual({ status: 200, body: "OK" });
    const web = await dig("127.0.0.1", daemon.ports.dns, "+notcp", `web.${ns}.svc.cluster.local`, "A");
    expect(web.answer).toEqual([`web.${ns}.svc.cluster.local. A ${webIP}`]);
    expect(await daemon.exited).toBe(0);
    expect(daemon.lines.map((l) => l["msg"])).toEqual(expect.arrayContaining(["shutting down: /ready fails, answering until lameduck ends", "stopped"]));
  });
});

describe("EDNS versions and the metrics that count them", () => {
  it("answers dig +edns=1 with BADVERS and an OPT record of version 0, and counts it as BADVERS", async () => {
    const file = join(dir, "edns.yaml");
    writeFileSync(file, `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: default}}\n- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {clusterIP: 10.96.0.7, clusterIPs: [10.96.0.7], ports: [{port: 80}]}}\n`);
    const daemon = await DnsDaemonProcess.start(["--objects", file, "--listen", "127.0.0.1:0", "--upstream", upstream]);
    try {
      for (const transport of ["+notcp", "+tcp"]) {
        const bad = await dig("127.0.0.1", daemon.ports.dns, transport, "+edns=1", "+noednsnegotiation", "web.default.svc.cluster.local", "A");
        expect(bad.status).toBe("BADVERS");
        expect(bad.answer).toEqual([]);
        expect(bad.raw).toMatch(/; EDNS: version: 0,/);
        const good = await dig("127.0.0.1", daemon.ports.dns, transport, "+edns=0", "web.default.svc.cluster.local", "A");
        expect(good.status).toBe("NOERROR");
        expect(good.answer).toEqual(["web.default.svc.cluster.local. A 10.96.0.7"]);
      }
      const { body } = await daemon.http("metrics");
      expect(body).toMatch(/^coredns_dns_responses_total\{[^}]*rcode="BADVERS"[^}]*\} 2$/m);
      expect(body).toMatch(/^coredns_dns_responses_total\{[^}]*rcode="NOERROR"[^}]*\} 2$/m);
      expect(body).toMatch(/^coredns_dns_request_size_bytes_count\{[^}]*proto="udp"\} 2$/m);
      expect(body).toMatch(/^coredns_dns_response_size_bytes_count\{[^}]*proto="tcp"\} 2$/m);
      // Shown per upstream; the start-up loop probes (CoreDNS's `loop`) count in it too.
      expect(body).toMatch(/^coredns_forward_requests_total\{to="127\.0\.0\.1:53"\} \d+$/m);
    } finally {
      await daemon.kill();
    }
  });
});
