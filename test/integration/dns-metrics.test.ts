// signpost-dns's metrics for what was configured, against the real kube-apiserver: requests
// and responses counted by zone (the cluster zone, each forward zone, "."), and the DNS
// programming latency histogram, observed once per EndpointSlice change that carries the
// EndpointSlice controller's last-change-trigger-time (written here as the controller would:
// no controller-manager runs in the local cluster).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { triggerTimeAnnotation } from "../../pkg/kube/trigger-time.ts";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { Dnsmasq } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, endpointSlice, service } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);

let upstream: Dnsmasq;
let daemon: DnsDaemonProcess;
let ns = "";
const ask = (name: string, type = "A") => dig("127.0.0.1", daemon.ports.dns, "+notcp", name, type);

/** The sum of a metric's series whose labels contain every one of `labels`. */
async function metric(name: string, ...labels: string[]): Promise<number> {
  const body = (await daemon.http("metrics")).body;
  return body
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => labels.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

const programmed = () => metric("signpost_dns_programming_duration_seconds_count");

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnsmetrics");
  upstream = await Dnsmasq.start({ records: ["--local=/example.corp/", "--host-record=db.example.corp,192.0.2.20", "--host-record=www.example.test,192.0.2.10"] });
  const dir = mkdtempSync(join(tmpdir(), "dns-metrics-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${upstream.address}\n`);
  const config = join(dir, "dns.yaml");
  writeFileSync(config, `apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\nforward:\n  - {zone: example.corp, to: ["${upstream.address}"]}\n`);
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", resolvConf, "--config", config]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
});

afterAll(async () => {
  await daemon?.kill();
  await upstream?.stop();
  await c.core.deleteNamespace({ name: ns });
});

describe("requests and responses by zone", () => {
  it("counts each query under the configured zone that holds its name", async () => {
    const zone = (z: string) => `zone="${z}"`;
    const before = {
      cluster: await metric("coredns_dns_requests_total", zone("cluster.local.")),
      corp: await metric("coredns_dns_requests_total", zone("example.corp.")),
      root: await metric("coredns_dns_requests_total", zone(".")),
      nx: await metric("coredns_dns_responses_total", zone("cluster.local."), 'rcode="NXDOMAIN"'),
    };
    expect((await ask(`nothing.${ns}.svc.cluster.local`)).status).toBe("NXDOMAIN");
    expect((await ask("kubernetes.default.svc.cluster.local")).status).toBe("NOERROR");
    expect((await ask("db.example.corp")).answer).toEqual(["db.example.corp. A 192.0.2.20"]);
    expect((await ask("www.example.test")).answer).toEqual(["www.example.test. A 192.0.2.10"]);
    expect(await metric("coredns_dns_requests_total", zone("cluster.local."))).toBe(before.cluster + 2);
    expect(await metric("coredns_dns_requests_total", zone("example.corp."))).toBe(before.corp + 1);
    expect(await metric("coredns_dns_requests_total", zone("."))).toBe(before.root + 1);
    expect(await metric("coredns_dns_responses_total", zone("cluster.local."), 'rcode="NXDOMAIN"')).toBe(before.nx + 1);
  });
});

describe("DNS programming latency", () => {
  it("observes a slice change once its trigger time is after the start, and not a slice without one", async () => {
    await c.core.createNamespacedService({ namespace: ns, body: service(ns, "db", 80, { clusterIP: "None" }) });
    const name = `db.${ns}.svc.cluster.local`;
    const before = await programmed();

    const untimed = endpointSlice(ns, "db-untimed", "db", ["10.250.0.1"]);
    await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: untimed });
    await eventually(async () => (await ask(name)).answer.length === 1, "the untimed slice is served");
    expect(await programmed()).toBe(before);

    const timed = endpointSlice(ns, "db-timed", "db", ["10.250.0.2"]);
    timed.metadata = { ...timed.metadata, annotations: { [triggerTimeAnnotation]: new Date().toISOString() } };
    await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: timed });
    await eventually(async () => (await ask(name)).answer.length === 2, "the timed slice is served");
    expect(await programmed()).toBe(before + 1);

    // A label edited by hand keeps the trigger time: no new change to measure.
    const created = await c.discovery.readNamespacedEndpointSlice({ namespace: ns, name: "db-timed" });
    const labels = { ...created.metadata?.labels, edited: "yes" };
    await c.discovery.replaceNamespacedEndpointSlice({ namespace: ns, name: "db-timed", body: { ...created, metadata: { ...created.metadata, labels } } });
    // A real change after the edit: the watch delivers in order, so once it is served the edit was seen.
    const next = endpointSlice(ns, "db-timed", "db", ["10.250.0.3"]);
    const current = await c.discovery.readNamespacedEndpointSlice({ namespace: ns, name: "db-timed" });
    await c.discovery.replaceNamespacedEndpointSlice({
      namespace: ns,
      name: "db-timed",
      body: { ...next, metadata: { ...current.metadata, annotations: { [triggerTimeAnnotation]: new Date().toISOString() } } },
    });
    await eventually(async () => (await ask(name)).answer.some((line) => line.endsWith("10.250.0.3")), "the update is served");
    expect(await programmed()).toBe(before + 2);
  });
});
