// Pods resolve short names through the search path: glibc's getent in a network namespace whose
// resolv.conf is a pod's (search <ns>.svc.cluster.local svc.cluster.local cluster.local,
// ndots:5) and names signpost-dns at an address on a veth link into it. signpost-dns answers
// the cluster names and the search-path misses, and sends the rest to a real dnsmasq.
import { randomInt } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { Dnsmasq } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, service } from "../support/kube.ts";
import { link, NetNs } from "../support/netns.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);

let pod: NetNs;
let upstream: Dnsmasq;
let daemon: DnsDaemonProcess;
let dnsAddress = "";
let other = "";
let nginxIP = "";
let otherIP = "";

beforeAll(async () => {
  const created = await c.core.createNamespacedService({ namespace: "default", body: service("default", "nginx-service") });
  nginxIP = created.spec?.clusterIP ?? "";
  other = await createNamespace(c.core, "getent");
  otherIP = (await c.core.createNamespacedService({ namespace: other, body: service(other, "api") })).spec?.clusterIP ?? "";

  upstream = await Dnsmasq.start({ records: ["--local=/example.test/", "--host-record=www.example.test,192.0.2.10"] });
  pod = await NetNs.create("pod");
  const net = `10.232.${randomInt(256)}`;
  dnsAddress = `${net}.1`;
  await link(pod, `${net}.2/24`, null, `${dnsAddress}/24`);
  await pod.setResolvConf(
    `search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${dnsAddress}\noptions ndots:5\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), "dns-getent-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${upstream.address}\n`);
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", `${dnsAddress}:53`, "--upstream", resolvConf]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(
    async () => (await dig(dnsAddress, 53, `api.${other}.svc.cluster.local`, "A")).answer.length === 1,
    "the Services are served",
  );
});

afterAll(async () => {
  await daemon.kill();
  await pod.destroy();
  await upstream.stop();
  await c.core.deleteNamespacedService({ namespace: "default", name: "nginx-service" });
  await c.core.deleteNamespace({ name: other });
});

const hosts = async (name: string) => (await pod.run("getent", ["hosts", name])).trim().split(/\s+/);

describe("getent through glibc with a pod's resolv.conf", () => {
  it("resolves a Service by its short name", async () => {
    expect(await hosts("nginx-service")).toEqual([nginxIP, "nginx-service.default.svc.cluster.local"]);
  });

  it("resolves <service>.<namespace>", async () => {
    expect(await hosts("nginx-service.default")).toEqual([nginxIP, "nginx-service.default.svc.cluster.local"]);
    expect(await hosts(`api.${other}`)).toEqual([otherIP, `api.${other}.svc.cluster.local`]);
  });

  it("resolves the full name with and without the trailing dot", async () => {
    expect(await hosts("nginx-service.default.svc.cluster.local")).toEqual([nginxIP, "nginx-service.default.svc.cluster.local"]);
    expect(await hosts(`api.${other}.svc.cluster.local.`)).toEqual([otherIP, `api.${other}.svc.cluster.local`]);
  });

  it("resolves an outside name after the search-path misses, through the upstream", async () => {
    expect(await hosts("www.example.test")).toEqual(["192.0.2.10", "www.example.test"]);
  });

  it("fails for a name nobody has", async () => {
    await expect(pod.run("getent", ["hosts", "no-such-service"])).rejects.toThrow();
  });
});
