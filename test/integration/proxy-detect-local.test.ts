// kube-proxy's detect-local modes on real netfilter: with InterfaceNamePrefix, traffic to a
// cluster IP counts as pod traffic (its source kept) only when it arrives on an interface whose
// name starts with the prefix; the rest is masqueraded. Two pods in the same pod range, one on
// the prefix and one not, tell the interface and not the address decided.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { ProxyDaemon } from "../support/proxy-daemon.ts";
import { clusterIPOf, createNode, putSlice, serviceSpec, sliceSpec } from "../support/proxy-objects.ts";
import { backends, nodeIP, ProxyTopology, type Pod } from "../support/proxy-topology.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-dl-${randomBytes(3).toString("hex")}`;

let ns = "";
let topo: ProxyTopology;
let daemon: ProxyDaemon;
let backend: Pod;
let onPrefix: Pod;
let offPrefix: Pod;
let ip = "";

/** The node's side of a pod's veth: the interface its packets arrive on. */
async function nodeInterfaceOf(pod: Pod): Promise<string> {
  const route = await topo.node.run("ip", ["-o", "route", "get", pod.ip]);
  const dev = / dev (\S+)/.exec(route)?.[1];
  if (dev === undefined) throw new Error(`no route to ${pod.ip} in the node: ${route}`);
  return dev;
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "proxy-dl");
  await createNode(c.core, nodeName, nodeIP);
  topo = await ProxyTopology.create("pxd");
  backend = await topo.addPod("pxd-a", 1);
  onPrefix = await topo.addPod("pxd-on", 2);
  offPrefix = await topo.addPod("pxd-off", 3);
  await topo.serve(backend, 8080);
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "web", [{ name: "http", port: 80 }]) });
  ip = await clusterIPOf(c.core, ns, "web");
  await putSlice(c.discovery, sliceSpec(ns, "web", [{ name: "http", port: 8080 }], [{ ip: backend.ip, nodeName }]));
  // The whole interface name is a prefix of itself: only this pod's veth matches.
  const prefix = await nodeInterfaceOf(onPrefix);
  daemon = await ProxyDaemon.start({
    kubeconfig,
    nodeName,
    netns: topo.node.name,
    extraArgs: ["--detect-local-mode", "InterfaceNamePrefix", "--pod-interface-name-prefix", prefix, "--min-sync-period", "100ms"],
  });
  await eventually(async () => backends(await topo.probe(onPrefix.ns, "tcp", ip, 80, { timeoutMs: 1000 })).length === 1, "the cluster IP answers");
});

afterAll(async () => {
  await daemon?.stop();
  await topo?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe("--detect-local-mode InterfaceNamePrefix", () => {
  it("keeps the source of traffic from an interface with the prefix and masquerades the rest", async () => {
    const kept = await topo.probe(onPrefix.ns, "tcp", ip, 80, { count: 3 });
    expect(backends(kept)).toEqual(["pxd-a", "pxd-a", "pxd-a"]);
    for (const o of kept) expect(o.reply?.split(" ")[1]).toBe(onPrefix.ip);
    const masqueraded = await topo.probe(offPrefix.ns, "tcp", ip, 80, { count: 3 });
    expect(backends(masqueraded)).toEqual(["pxd-a", "pxd-a", "pxd-a"]);
    for (const o of masqueraded) expect(o.reply?.split(" ")[1]).not.toBe(offPrefix.ip);
    const saved = await topo.node.run("iptables-save", ["-t", "nat"]);
    expect(saved).toContain(`! -i ${await nodeInterfaceOf(onPrefix)}+`);
  });
});
