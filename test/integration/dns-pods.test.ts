// `--pods verified` against the real kube-apiserver: a-b-c-d.<ns>.pod.<zone> is answered only
// while a Pod in <ns> has that IP, as CoreDNS answers it. The Pods are API objects whose status
// (podIPs, phase) the test writes through the status subresource (pod-objects.ts).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace } from "../support/kube.ts";
import { createPod as createPodObject, setPodStatus, withDefaultServiceAccount } from "../support/pod-objects.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const dir = mkdtempSync(join(tmpdir(), "dns-pods-"));
const upstream = join(dir, "resolv.conf");
writeFileSync(upstream, "nameserver 127.0.0.1\n");

let ns = "";
let other = "";
let daemon: DnsDaemonProcess;
const podName = (ip: string, namespace = ns) => `${ip.replaceAll(".", "-").replaceAll(":", "-")}.${namespace}.pod.cluster.local`;
const ask = (transport: string, name: string, type = "A") => dig("127.0.0.1", daemon.ports.dns, transport, name, type);

const createPod = (namespace: string, name: string, ips: readonly string[]) => createPodObject(c.core, namespace, name, ips);
const setStatus = (namespace: string, name: string, status: NonNullable<V1Pod["status"]>) => setPodStatus(c.core, namespace, name, status);

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnspods");
  other = await createNamespace(c.core, "dnspods-other");
  await withDefaultServiceAccount(c.core, ns);
  await withDefaultServiceAccount(c.core, other);
  await createPod(ns, "web-0", ["10.244.5.6", "fd00:10:244::5:6"]);
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", upstream, "--pods", "verified"]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
});

afterAll(async () => {
  await daemon?.kill();
  await c.core.deleteNamespace({ name: ns });
  await c.core.deleteNamespace({ name: other });
});

describe("pods verified, against the API server's Pods", () => {
  for (const transport of ["+notcp", "+tcp"]) {
    it(`answers the IPs of a Pod in its own namespace only (${transport === "+tcp" ? "TCP" : "UDP"})`, async () => {
      expect((await ask(transport, podName("10.244.5.6"))).answer).toEqual([`${podName("10.244.5.6")}. A 10.244.5.6`]);
      const v6 = await ask(transport, podName("fd00:10:244::5:6"), "AAAA");
      expect(v6.answer).toEqual([`${podName("fd00:10:244::5:6")}. AAAA fd00:10:244::5:6`]);
      expect((await ask(transport, podName("10.244.5.7"))).status).toBe("NXDOMAIN");
      expect((await ask(transport, podName("10.244.5.6", other))).status).toBe("NXDOMAIN");
    });
  }

  it("answers a Pod once it has an IP, and stops once it is deleted", async () => {
    await createPod(other, "late", ["10.244.6.1"]);
    await eventually(async () => (await ask("+notcp", podName("10.244.6.1", other))).status === "NOERROR", "the new Pod answers");
    expect((await ask("+notcp", podName("10.244.6.1", other))).answer).toEqual([`${podName("10.244.6.1", other)}. A 10.244.6.1`]);
    await c.core.deleteNamespacedPod({ namespace: other, name: "late", gracePeriodSeconds: 0 });
    await eventually(async () => (await ask("+notcp", podName("10.244.6.1", other))).status === "NXDOMAIN", "the deleted Pod is NXDOMAIN");
  });

  it("stops answering a Pod that has finished, whose IP is free for another", async () => {
    await createPod(ns, "job-1", ["10.244.5.9"]);
    await eventually(async () => (await ask("+notcp", podName("10.244.5.9"))).status === "NOERROR", "the running Pod answers");
    await setStatus(ns, "job-1", { phase: "Succeeded" });
    await eventually(async () => (await ask("+notcp", podName("10.244.5.9"))).status === "NXDOMAIN", "the finished Pod is NXDOMAIN");
  });

  it("counts the Pods it watched in its synced line", () => {
    const synced = daemon.lines.find((l) => l["msg"] === "synced with the API server: answering");
    expect(synced).toMatchObject({ pods: expect.any(Number) as unknown });
  });
});
