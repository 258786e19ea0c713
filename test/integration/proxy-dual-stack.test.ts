// signpost-proxy on a dual-stack cluster: a control plane of its own with an IPv4 and an IPv6
// service range, a node with an address of each family, and pods with both. Real IPv6 traffic
// goes through the ip6tables rules signpost programs, next to IPv4 traffic through iptables.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlane } from "../support/localcluster/control-plane.ts";
import { clients, createNamespace, type TestClients } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { ProxyDaemon } from "../support/proxy-daemon.ts";
import { putSlice, serviceSpec, sliceSpec, type PortSpec } from "../support/proxy-objects.ts";
import { chainsOf, serviceEntryRules } from "../support/proxy-rules.ts";
import { backends, clusterCIDR, clusterCIDRv6, nodeIP, nodeIPv6, outsideIPv6, ProxyTopology, type Pod } from "../support/proxy-topology.ts";

const nodeName = `px-dual-${randomBytes(3).toString("hex")}`;
const http: readonly PortSpec[] = [{ name: "http", port: 80 }];
const target: readonly PortSpec[] = [{ name: "http", port: 8080 }];

let cp: ControlPlane;
let c: TestClients;
let ns = "";
let topo: ProxyTopology;
let daemon: ProxyDaemon;
let a: Pod;
let b: Pod;
let client: Pod;

function v6(pod: Pod): string {
  if (pod.ipv6 === null) throw new Error(`${pod.name} has no IPv6 address`);
  return pod.ipv6;
}

beforeAll(async () => {
  cp = await ControlPlane.start({ serviceCIDR: "10.96.0.0/16,fd00:10:96::/108" });
  c = clients(cp.kubeconfigPath);
  ns = await createNamespace(c.core, "dual");
  const addresses = [{ type: "InternalIP", address: nodeIP }, { type: "InternalIP", address: nodeIPv6 }];
  await c.core.createNode({ body: { metadata: { name: nodeName }, status: { addresses } } });
  const node = await c.core.readNode({ name: nodeName });
  if ((node.status?.addresses ?? []).length === 0) await c.core.replaceNodeStatus({ name: nodeName, body: { ...node, status: { addresses } } });
  topo = await ProxyTopology.create("pxd", { ipv6: true });
  a = await topo.addPod("pxd-a", 1);
  b = await topo.addPod("pxd-b", 2);
  client = await topo.addPod("pxd-client", 3);
  await topo.serve(a, 8080);
  await topo.serve(b, 8080);
  daemon = await ProxyDaemon.start({
    kubeconfig: cp.kubeconfigPath,
    nodeName,
    netns: topo.node.name,
    extraArgs: ["--cluster-cidr", `${clusterCIDR},${clusterCIDRv6}`, "--min-sync-period", "100ms", "--sync-period", "2s"],
  });
  await daemon.waitForLog((l) => l["msg"] === "rules synced" && l["family"] === "IPv6", "the first IPv6 sync");
}, 180_000);

afterAll(async () => {
  await daemon?.stop();
  await topo?.destroy();
  await cp?.stop();
});

/** Creates a Service and its EndpointSlices (one per family given), and returns its cluster IPs. */
async function service(name: string, spec: Parameters<typeof serviceSpec>[3], pods: readonly Pod[], ports = http, targets = target): Promise<string[]> {
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, name, ports, spec) });
  const svc = await c.core.readNamespacedService({ namespace: ns, name });
  const families = svc.spec?.ipFamilies ?? [];
  if (pods.length > 0) {
    if (families.includes("IPv4")) await putSlice(c.discovery, sliceSpec(ns, name, targets, pods.map((p) => ({ ip: p.ip, nodeName }))));
    if (families.includes("IPv6")) await putSlice(c.discovery, sliceSpec(ns, name, targets, pods.map((p) => ({ ip: v6(p), nodeName })), "IPv6"));
  }
  return svc.spec?.clusterIPs ?? [];
}

describe("signpost-proxy on a dual-stack node", () => {
  it("serves a RequireDualStack Service over IPv4 and IPv6, keeping the pod's IPv6 source", async () => {
    const [ipv4 = "", ipv6 = ""] = await service("web", { ipFamilyPolicy: "RequireDualStack" }, [a, b]);
    expect(ipv6).toMatch(/^fd00:10:96::/);
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ipv6, 80, { timeoutMs: 1000 })).length === 1, "the IPv6 cluster IP answers");
    const fromPod = await topo.probe(client.ns, "tcp", ipv6, 80, { count: 20 });
    expect(new Set(backends(fromPod))).toEqual(new Set(["pxd-a", "pxd-b"]));
    for (const o of fromPod) expect(o.reply?.split(" ")[1]).toBe(v6(client));
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ipv4, 80, { timeoutMs: 1000 })).length === 1, "the IPv4 cluster IP answers");
    expect(backends(await topo.probe(topo.node, "tcp", ipv6, 80, { count: 3 }))).toHaveLength(3);

    const saved6 = await topo.node.run("ip6tables-save", []);
    const clusterRule = serviceEntryRules(chainsOf(saved6)).find((r) => r.includes(`-d ${ipv6}/128`));
    expect(clusterRule).toContain(`--comment "${ns}/web:http cluster IP"`);
    const svcChain = /-j (KUBE-SVC-[A-Z0-9]+)/.exec(clusterRule ?? "")?.[1] ?? "";
    expect(chainsOf(saved6).get(`nat/${svcChain}`)?.filter((r) => r.includes("-j KUBE-SEP-"))).toHaveLength(2);
    // Each family's rules hold only that family's addresses.
    expect(saved6).not.toContain(ipv4);
    expect(await topo.node.run("iptables-save", [])).not.toContain(ipv6);
  });

  it("serves UDP over IPv6, and deletes the stale IPv6 flow when its endpoint goes away", async () => {
    const udp: readonly PortSpec[] = [{ name: "dns", port: 53, protocol: "UDP" }];
    const udpTarget: readonly PortSpec[] = [{ name: "dns", port: 8080, protocol: "UDP" }];
    const [ipv6 = ""] = await service("dns6", { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" }, [a, b], udp, udpTarget);
    expect(ipv6).toContain(":");
    const opts = { localPort: 40053, timeoutMs: 1000 };
    await eventually(async () => backends(await topo.probe(client.ns, "udp", ipv6, 53, opts)).length === 1, "the IPv6 UDP service answers");
    const first = backends(await topo.probe(client.ns, "udp", ipv6, 53, opts))[0];
    const kept = first === "pxd-a" ? b : a;
    const logged = daemon.logs().length;
    await putSlice(c.discovery, sliceSpec(ns, "dns6", udpTarget, [{ ip: v6(kept), nodeName }], "IPv6"));
    // The removed backend still runs: only deleting the conntrack entry moves this client.
    await eventually(async () => backends(await topo.probe(client.ns, "udp", ipv6, 53, opts))[0] === kept.name, "the IPv6 flow moves");
    await daemon.waitForLog((l) => l["msg"] === "stale UDP conntrack entries deleted" && l["family"] === "IPv6", "IPv6 conntrack cleanup logged", logged);
  });

  it("answers an IPv6 NodePort from outside on the node's IPv6 address, masqueraded", async () => {
    await service("np6", { type: "NodePort", ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "PreferDualStack" }, [a]);
    const svc = await c.core.readNamespacedService({ namespace: ns, name: "np6" });
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", nodeIPv6, nodePort, { timeoutMs: 1000 })).length === 1, "the IPv6 node port answers");
    const [outcome] = await topo.probe(topo.outside, "tcp", nodeIPv6, nodePort, { localAddress: outsideIPv6 });
    // Cluster policy: masqueraded to the node's address on the pod's link.
    expect(outcome?.reply).toBe("pxd-a fd00:10:244:1::1");
  });

  it("refuses a connection to an IPv6 cluster IP without endpoints", async () => {
    const [ipv6 = ""] = await service("empty6", { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" }, []);
    // The ICMPv6 error comes back so fast that it can find the client's connect() still holding
    // the socket (the kernel counts it in TcpExtLockDroppedIcmps and ignores it); the error for
    // the SYN's retransmission, a second later, then refuses the connection.
    await eventually(async () => (await topo.probe(client.ns, "tcp", ipv6, 80, { timeoutMs: 3000 }))[0]?.error === "ECONNREFUSED", "refused over IPv6");
  });

  it("programs an SCTP port in both families (this kernel has no SCTP sockets, so no SCTP traffic is sent)", async () => {
    const sctp: readonly PortSpec[] = [{ name: "assoc", port: 9999, protocol: "SCTP" }];
    const [ipv4 = "", ipv6 = ""] = await service("assoc", { ipFamilyPolicy: "RequireDualStack" }, [a], sctp, [{ name: "assoc", port: 9999, protocol: "SCTP" }]);
    const natRule = async (save: string, ip: string) => serviceEntryRules(chainsOf(await topo.node.run(save, []))).find((l) => l.includes(`-d ${ip}/`)) ?? "";
    await eventually(async () => (await natRule("iptables-save", ipv4)).includes("-j KUBE-SVC-") && (await natRule("ip6tables-save", ipv6)).includes("-j KUBE-SVC-"), "both families' SCTP rules");
    expect(await natRule("iptables-save", ipv4)).toMatch(new RegExp(`-p sctp -m comment --comment "${ns}/assoc:assoc cluster IP" -m sctp --dport 9999 -j KUBE-SVC-`));
    expect(await natRule("ip6tables-save", ipv6)).toMatch(new RegExp(`-p sctp -m comment --comment "${ns}/assoc:assoc cluster IP" -m sctp --dport 9999 -j KUBE-SVC-`));
  });
});
