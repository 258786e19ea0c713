// autopath against the real kube-apiserver: a "pod" network namespace whose address is a Pod's
// IP (the Pod is an API object whose status the test writes), with a pod's resolv.conf (ndots:5,
// its namespace's search list), asks signpost-dns with the real dig. With `autopath: true` one
// query answers an outside name that the search list would otherwise walk in four; an address
// that is no Pod's, or that two Pods claim, gets the plain NXDOMAIN. The outside name comes
// from a real dnsmasq in a namespace of its own.
import { randomInt } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess, parseDig } from "../support/dns-daemon.ts";
import { Dnsmasq } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace } from "../support/kube.ts";
import { link, NetNs } from "../support/netns.ts";
import { createPod, withDefaultServiceAccount } from "../support/pod-objects.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);

let pod: NetNs;
let upstream: Dnsmasq;
let daemon: DnsDaemonProcess;
let ns = "";
let other = "";
let dnsAddress = "";
/** The Pod's address, on the pod namespace's link. */
let podIP = "";
/** A second address on the same link that no Pod has. */
let strangerIP = "";

/** dig from the pod namespace, its source address `from`, through the search list (+search, ndots:5 from resolv.conf). */
async function digFrom(from: string, name: string, ...args: string[]) {
  return parseDig(await pod.run("dig", [`@${dnsAddress}`, "-b", from, "+time=3", "+tries=1", "+nocookie", ...args, name, "A"]));
}

async function metric(name: string): Promise<number> {
  const body = (await daemon.http("metrics")).body;
  return body
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

/** The queries signpost-dns saw while `run` ran; nothing else asks it meanwhile. */
async function queriesDuring(run: () => Promise<unknown>): Promise<number> {
  const before = await metric("coredns_dns_requests_total");
  await run();
  return (await metric("coredns_dns_requests_total")) - before;
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "autopath");
  other = await createNamespace(c.core, "autopath-other");
  await withDefaultServiceAccount(c.core, ns);
  await withDefaultServiceAccount(c.core, other);
  upstream = await Dnsmasq.start({ records: ["--local=/example.test/", "--host-record=www.example.test,192.0.2.10"] });
  pod = await NetNs.create("autopath-pod");
  const net = `10.233.${randomInt(256)}`;
  dnsAddress = `${net}.1`;
  podIP = `${net}.2`;
  strangerIP = `${net}.3`;
  const { aDev } = await link(pod, `${podIP}/24`, null, `${dnsAddress}/24`);
  await pod.run("ip", ["addr", "add", `${strangerIP}/24`, "dev", aDev]);
  await pod.setResolvConf(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${dnsAddress}\noptions ndots:5\n`);
  await createPod(c.core, ns, "client", [podIP]);

  const dir = mkdtempSync(join(tmpdir(), "dns-autopath-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${upstream.address}\n`);
  const config = join(dir, "dns.yaml");
  writeFileSync(config, "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\ncluster: {pods: verified, autopath: true}\n");
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", `${dnsAddress}:53`, "--upstream", resolvConf, "--config", config]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(async () => (await digFrom(podIP, `www.example.test.${ns}.svc.cluster.local`)).status === "NOERROR", "the Pod's address is known");
});

afterAll(async () => {
  await daemon?.kill();
  await pod?.destroy();
  await upstream?.stop();
  await c.core.deleteNamespace({ name: ns });
  await c.core.deleteNamespace({ name: other });
});

describe("autopath for a verified Pod", () => {
  it("answers the first search-list query of an outside name with a CNAME to it and its address", async () => {
    const before = await metric("coredns_autopath_success_total");
    const out = await digFrom(podIP, `www.example.test.${ns}.svc.cluster.local`);
    expect(out.status).toBe("NOERROR");
    expect(out.answer).toEqual([`www.example.test.${ns}.svc.cluster.local. CNAME www.example.test.`, "www.example.test. A 192.0.2.10"]);
    expect(await metric("coredns_autopath_success_total")).toBe(before + 1);
  });

  it("costs one query through the search list where an unknown address costs four", async () => {
    let fromPod: ReturnType<typeof parseDig> | undefined;
    let fromStranger: ReturnType<typeof parseDig> | undefined;
    const podQueries = await queriesDuring(async () => (fromPod = await digFrom(podIP, "www.example.test", "+search")));
    const strangerQueries = await queriesDuring(async () => (fromStranger = await digFrom(strangerIP, "www.example.test", "+search")));
    // Both get the address; the Pod in one query, the stranger after three NXDOMAINs.
    expect(fromPod?.answer.at(-1)).toBe("www.example.test. A 192.0.2.10");
    expect(fromStranger?.answer).toEqual(["www.example.test. A 192.0.2.10"]);
    expect(podQueries).toBe(1);
    expect(strangerQueries).toBe(4);
  });

  it("lets glibc resolve an outside name with one query per address family (getent through the Pod's resolv.conf)", async () => {
    let out = "";
    const queries = await queriesDuring(async () => (out = await pod.run("getent", ["hosts", "www.example.test"])));
    expect(out.trim().split(/\s+/)[0]).toBe("192.0.2.10");
    // getent hosts asks AAAA, then A, for www.example.test.<ns>.svc.cluster.local, each answered
    // at once (the AAAA with the CNAME and no address: dnsmasq has none); without autopath glibc
    // walks four names for each family.
    expect(queries).toBe(2);
  });

  it("gives an address that is no Pod's the plain NXDOMAIN", async () => {
    const out = await digFrom(strangerIP, `www.example.test.${ns}.svc.cluster.local`);
    expect(out.status).toBe("NXDOMAIN");
    expect(out.answer).toEqual([]);
  });

  it("gives the plain NXDOMAIN while two Pods claim the address, and walks again once one is gone", async () => {
    const name = `www.example.test.${ns}.svc.cluster.local`;
    await createPod(c.core, other, "reused", [podIP]);
    await eventually(async () => (await digFrom(podIP, name)).status === "NXDOMAIN", "the shared address is no longer trusted");
    expect((await digFrom(podIP, name)).answer).toEqual([]);
    await c.core.deleteNamespacedPod({ namespace: other, name: "reused", gracePeriodSeconds: 0 });
    await eventually(async () => (await digFrom(podIP, name)).status === "NOERROR", "the address is one Pod's again");
  });

  it("leaves a query under another namespace's search domain alone", async () => {
    const out = await digFrom(podIP, `www.example.test.${other}.svc.cluster.local`);
    expect(out.status).toBe("NXDOMAIN");
  });

  it("answers plain queries to the same server as before", async () => {
    expect((await dig(dnsAddress, 53, "www.example.test", "A")).answer).toEqual(["www.example.test. A 192.0.2.10"]);
  });
});
