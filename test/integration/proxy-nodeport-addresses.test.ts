// --nodeport-addresses against real netfilter: the daemon matches the CIDRs against the addresses
// on the interfaces of the namespace it programs (one the Node object does not list included),
// and "primary" means the Node's primary address. The offline `render` has no interfaces to read,
// so it matches the Node object's addresses, as its help says.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import type { NetNs } from "../support/netns.ts";
import { ProxyDaemon, runProxyCommand } from "../support/proxy-daemon.ts";
import { createNode, putSlice, serviceSpec, sliceSpec } from "../support/proxy-objects.ts";
import { backends, clusterCIDR, nodeIP, outsideIP, ProxyTopology, type Pod } from "../support/proxy-topology.ts";
import { chainsOf } from "../support/proxy-rules.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-npa-${randomBytes(3).toString("hex")}`;
/** On the node's interface to the outside, but not in its Node object. */
const extraIP = "192.168.60.1";
const extraOutsideIP = "192.168.60.2";

let ns = "";
let topo: ProxyTopology;
let a: Pod;
let nodePort = 0;
let daemon: ProxyDaemon | null = null;

/** The interface of a namespace that holds an address. */
async function interfaceWith(n: NetNs, address: string): Promise<string> {
  const entries = JSON.parse(await n.run("ip", ["-j", "addr", "show"])) as { ifname: string; addr_info: { local: string }[] }[];
  const found = entries.find((e) => e.addr_info.some((i) => i.local === address));
  if (found === undefined) throw new Error(`no interface with ${address}`);
  return found.ifname;
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "npa");
  await createNode(c.core, nodeName, nodeIP);
  topo = await ProxyTopology.create("pxn");
  a = await topo.addPod("pxn-a", 1);
  await topo.serve(a, 8080);
  await topo.node.run("ip", ["addr", "add", `${extraIP}/24`, "dev", await interfaceWith(topo.node, nodeIP)]);
  await topo.outside.run("ip", ["addr", "add", `${extraOutsideIP}/24`, "dev", await interfaceWith(topo.outside, outsideIP)]);
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "np", [{ name: "http", port: 80 }], { type: "NodePort" }) });
  await putSlice(c.discovery, sliceSpec(ns, "np", [{ name: "http", port: 8080 }], [{ ip: a.ip, nodeName }]));
  const svc = await c.core.readNamespacedService({ namespace: ns, name: "np" });
  nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
});

afterEach(async () => {
  await daemon?.stop();
  daemon = null;
});

afterAll(async () => {
  await topo?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

async function startWith(nodePortAddresses: string): Promise<void> {
  // The rules of the previous daemon stay in place by design; start from a clean node.
  await runProxyCommand(["--cleanup", "--iptables-netns", topo.node.name]);
  daemon = await ProxyDaemon.start({
    kubeconfig,
    nodeName,
    netns: topo.node.name,
    extraArgs: ["--cluster-cidr", clusterCIDR, "--min-sync-period", "100ms", "--sync-period", "2s", "--nodeport-addresses", nodePortAddresses],
  });
  await daemon.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
}

async function nodePortJumps(): Promise<string[]> {
  return (chainsOf(await topo.node.run("iptables-save", [])).get("nat/KUBE-SERVICES") ?? []).filter((r) => r.endsWith("-j KUBE-NODEPORTS"));
}

describe("--nodeport-addresses", () => {
  it("matches the CIDRs against the node's interface addresses, not only the Node object's", async () => {
    await startWith("192.168.60.0/24");
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", extraIP, nodePort, { timeoutMs: 1000 })).length === 1, "the node port answers on the interface address");
    expect(await nodePortJumps()).toEqual([expect.stringContaining(`-d ${extraIP}/32`)]);
    // Not on the Node's own address, which is outside the CIDR: nothing listens there.
    expect(await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { timeoutMs: 2000 })).toEqual([{ error: "ECONNREFUSED" }]);
  });

  it('answers on the Node\'s primary address only with "primary"', async () => {
    await startWith("primary");
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { timeoutMs: 1000 })).length === 1, "the node port answers on the primary address");
    expect(await nodePortJumps()).toEqual([expect.stringContaining(`-d ${nodeIP}/32`)]);
    expect(await topo.probe(topo.outside, "tcp", extraIP, nodePort, { timeoutMs: 2000 })).toEqual([{ error: "ECONNREFUSED" }]);
  });

  it("is matched against the Node object's addresses by the offline render", async () => {
    const dir = await mkdtemp(join(tmpdir(), "signpost-npa-"));
    try {
      const node = await c.core.readNode({ name: nodeName });
      const file = join(dir, "objects.json");
      await writeFile(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ ...node, kind: "Node", apiVersion: "v1" }] }));
      const render = async (flag: string) => (await runProxyCommand(["render", "--objects", file, "--node", nodeName, "--nodeport-addresses", flag])).stdout;
      expect(await render("192.168.60.0/24")).not.toMatch(/^-A KUBE-SERVICES .*-j KUBE-NODEPORTS$/m);
      expect(await render("primary")).toContain(`-d ${nodeIP} -j KUBE-NODEPORTS`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
