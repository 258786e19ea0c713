// The localnet guard (CVE-2020-8558) on real netfilter. signpost-proxy turns route_localnet on so
// that node ports answer on 127.0.0.1; without the guard a neighbour on the node's network can
// then send packets to 127.0.0.1 and reach what listens on the node's loopback only. The
// neighbour here is the topology's outside namespace, made to route 127.0.0.1 to the node as an
// attacker's own machine can; the node runs a loopback-only echo service named "node-loopback".
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { ProxyDaemon, runProxyCommand } from "../support/proxy-daemon.ts";
import { createNode, putSlice, serviceSpec, sliceSpec } from "../support/proxy-objects.ts";
import { chainsOf } from "../support/proxy-rules.ts";
import { backends, clusterCIDR, nodeIP, outsideIP, ProxyTopology, type Pod } from "../support/proxy-topology.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-lnet-${randomBytes(3).toString("hex")}`;
/** A port nothing but the node's loopback-only service uses. */
const loopbackPort = 9099;

let ns = "";
let topo: ProxyTopology;
let a: Pod;
let nodePort = 0;
let daemon: ProxyDaemon | null = null;

beforeAll(async () => {
  ns = await createNamespace(c.core, "lnet");
  await createNode(c.core, nodeName, nodeIP);
  topo = await ProxyTopology.create("pxl");
  a = await topo.addPod("pxl-a", 1);
  await topo.serve(a, 8080);
  await topo.serveIn(topo.node, "node-loopback", loopbackPort, "ipv4", "127.0.0.1");
  await topo.routeLoopbackToNode();
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "np", [{ name: "http", port: 80 }], { type: "NodePort" }) });
  await putSlice(c.discovery, sliceSpec(ns, "np", [{ name: "http", port: 8080 }], [{ ip: a.ip, nodeName }]));
  const svc = await c.core.readNamespacedService({ namespace: ns, name: "np" });
  nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
});

afterAll(async () => {
  await daemon?.stop();
  await topo?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

/** The one outcome of a TCP connection from a namespace: the answer's first word, or the error. */
async function tcp(from: "node" | "outside", host: string, port: number, timeoutMs = 2000): Promise<string> {
  const [o] = await topo.probe(from === "node" ? topo.node : topo.outside, "tcp", host, port, { timeoutMs });
  return o?.reply ?? `error ${o?.error ?? "none"}`;
}

async function routeLocalnet(): Promise<string> {
  return (await topo.node.run("sysctl", ["-n", "net.ipv4.conf.all.route_localnet"])).trim();
}

describe("the localnet guard", () => {
  it("is what stands between a neighbour and the node's loopback once route_localnet is on (the attack, without signpost-proxy)", async () => {
    expect(await tcp("outside", "127.0.0.1", loopbackPort)).toBe("error timeout");
    await topo.node.run("sysctl", ["-q", "-w", "net.ipv4.conf.all.route_localnet=1"]);
    // The neighbour's packet to 127.0.0.1 now reaches the loopback-only service: CVE-2020-8558.
    await eventually(async () => (await tcp("outside", "127.0.0.1", loopbackPort)) === `node-loopback ${outsideIP}`, "the neighbour reaches the node's loopback");
    await topo.node.run("sysctl", ["-q", "-w", "net.ipv4.conf.all.route_localnet=0"]);
  });

  it("drops a neighbour's packets to 127.0.0.1 while signpost-proxy serves node ports there to the node itself", async () => {
    daemon = await ProxyDaemon.start({
      kubeconfig,
      nodeName,
      netns: topo.node.name,
      extraArgs: ["--cluster-cidr", clusterCIDR, "--min-sync-period", "100ms", "--sync-period", "2s"],
    });
    await daemon.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
    expect(await routeLocalnet()).toBe("1");

    // From the node itself the node port on 127.0.0.1 works, and the backend answers.
    await eventually(async () => backends(await topo.probe(topo.node, "tcp", "127.0.0.1", nodePort, { timeoutMs: 1000 }))[0] === "pxl-a", "127.0.0.1:<node port> answers on the node");
    expect(await tcp("node", "127.0.0.1", loopbackPort)).toBe("node-loopback 127.0.0.1");
    // The neighbour reaches the node port on the node's address, as any client does...
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { timeoutMs: 1000 }))[0] === "pxl-a", "<node IP>:<node port> answers the neighbour");
    // ...but nothing on 127.0.0.1: neither the loopback-only service nor the node port there.
    for (const port of [loopbackPort, nodePort]) expect(await tcp("outside", "127.0.0.1", port), `127.0.0.1:${port} from the neighbour`).toBe("error timeout");

    const saved = chainsOf(await topo.node.run("iptables-save", ["-t", "filter"]));
    expect(saved.get("filter/KUBE-FIREWALL")).toEqual([
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ]);
    // The kubelet's bare jumps, once each and first, before anything that accepts.
    for (const chain of ["INPUT", "OUTPUT"]) expect(saved.get(`filter/${chain}`)?.[0], chain).toBe(`-A ${chain} -j KUBE-FIREWALL`);
    expect(saved.get("filter/INPUT")?.filter((r) => r.endsWith("-j KUBE-FIREWALL"))).toHaveLength(1);
  });

  it("is removed by --cleanup together with route_localnet, which leaves the node's loopback closed", async () => {
    await daemon?.stop();
    daemon = null;
    const r = await runProxyCommand(["--cleanup", "--iptables-netns", topo.node.name]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('"localnetGuard":"removed"');
    expect(await topo.node.run("iptables-save", [])).not.toContain("KUBE-");
    expect(await routeLocalnet()).toBe("0");
    expect(await tcp("outside", "127.0.0.1", loopbackPort)).toBe("error timeout");
    expect(await tcp("node", "127.0.0.1", loopbackPort)).toBe("node-loopback 127.0.0.1");
  });
});
