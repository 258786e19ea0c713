// signpost-proxy against the real kube-apiserver and the kernel's netfilter: the daemon programs
// a node namespace, backends are processes in pod namespaces, and clients connect from a pod,
// from the node itself and from an "outside" namespace. Every assertion is about where a real
// connection went.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { NetNs } from "../support/netns.ts";
import { ProxyDaemon, runProxyCommand } from "../support/proxy-daemon.ts";
import { clusterIPOf, createNode, putSlice, serviceSpec, sliceSpec, type PortSpec } from "../support/proxy-objects.ts";
import { backends, clusterCIDR, nodeIP, otherOutsideIP, outsideIP, ProxyTopology, type Pod } from "../support/proxy-topology.ts";
import { chainsOf, serviceEntryRules } from "../support/proxy-rules.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-node-${randomBytes(3).toString("hex")}`;
const otherNode = "px-elsewhere";
const http: readonly PortSpec[] = [{ name: "http", port: 80 }];
const target: readonly PortSpec[] = [{ name: "http", port: 8080 }];

let ns = "";
let topo: ProxyTopology;
let daemon: ProxyDaemon;
let a: Pod;
let b: Pod;
let client: Pod;

beforeAll(async () => {
  ns = await createNamespace(c.core, "proxy");
  // Pod a's /24 only: b stays outside it, so b named on another node is remote.
  await createNode(c.core, nodeName, nodeIP, "10.244.1.0/24");
  topo = await ProxyTopology.create("pxt");
  a = await topo.addPod("pxt-a", 1);
  b = await topo.addPod("pxt-b", 2);
  client = await topo.addPod("pxt-client", 3);
  await topo.serve(a, 8080);
  await topo.serve(b, 8080);
  daemon = await ProxyDaemon.start({
    kubeconfig,
    nodeName,
    netns: topo.node.name,
    extraArgs: ["--cluster-cidr", clusterCIDR, "--min-sync-period", "100ms", "--sync-period", "2s"],
  });
  await daemon.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
});

afterAll(async () => {
  await daemon?.stop();
  await topo?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

async function service(name: string, spec: Parameters<typeof serviceSpec>[3] = {}, ports = http): Promise<string> {
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, name, ports, spec) });
  return clusterIPOf(c.core, ns, name);
}

async function endpoints(name: string, pods: readonly (Pod | { pod: Pod; nodeName: string })[], ports = target): Promise<void> {
  const eps = pods.map((p) => ("pod" in p ? { ip: p.pod.ip, nodeName: p.nodeName } : { ip: p.ip, nodeName }));
  await putSlice(c.discovery, sliceSpec(ns, name, ports, eps));
}

describe("signpost-proxy programs real netfilter", () => {
  it("sends a ClusterIP's connections to its endpoints, from a pod and from the node", async () => {
    const ip = await service("web");
    await endpoints("web", [a, b]);
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 })).length === 1, "the cluster IP answers");
    const fromPod = await topo.probe(client.ns, "tcp", ip, 80, { count: 20 });
    expect(new Set(backends(fromPod))).toEqual(new Set(["pxt-a", "pxt-b"]));
    // Pod traffic keeps its source address: no masquerade inside the cluster CIDR.
    for (const o of fromPod) expect(o.reply?.split(" ")[1]).toBe(client.ip);
    const fromNode = await topo.probe(topo.node, "tcp", ip, 80, { count: 5 });
    expect(backends(fromNode)).toHaveLength(5);
  });

  it("DNATs to an endpoint on another node from the Service chain, and masquerades a pod reaching itself", async () => {
    const ip = await service("spread");
    await endpoints("spread", [a, { pod: b, nodeName: otherNode }]);
    await eventually(async () => new Set(backends(await topo.probe(client.ns, "tcp", ip, 80, { count: 10, timeoutMs: 1000 }))).size === 2, "both endpoints used");
    const saved = chainsOf(await topo.node.run("iptables-save", ["-t", "nat"]));
    // This Service's chain, by the jump from KUBE-SERVICES for its cluster IP (other Services' chains name b too).
    const entry = serviceEntryRules(saved).find((r) => r.includes(`-d ${ip}/32`)) ?? "";
    const svcRules = saved.get(`nat/${/-j (KUBE-SVC-\S+)/.exec(entry)?.[1] ?? ""}`) ?? [];
    expect(svcRules.length).toBeGreaterThan(0);
    // The local endpoint keeps its KUBE-SEP chain (for hairpin); the other is DNATed in place.
    expect(svcRules.filter((r) => r.includes("-j KUBE-SEP-"))).toHaveLength(1);
    expect(svcRules.filter((r) => r.includes(`-j DNAT --to-destination ${b.ip}:8080`))).toHaveLength(1);
    const fromA = await topo.probe(a.ns, "tcp", ip, 80, { count: 20 });
    expect(new Set(backends(fromA))).toEqual(new Set(["pxt-a", "pxt-b"]));
    for (const o of fromA) {
      const [backend, source] = o.reply?.split(" ") ?? [];
      // Reaching itself, pod a is masqueraded, or the reply would skip the DNAT; to b it keeps its address.
      if (backend === "pxt-a") expect(source).not.toBe(a.ip);
      else expect(source).toBe(a.ip);
    }
  });

  it("serves an endpoint listed in two slices, ready in one and terminating in the other, in either order", async () => {
    // A slice rebalance: the endpoint is ready in its new slice and terminating, not serving, in
    // the old one. Which slice is read first must not decide whether the Service has endpoints.
    for (const [name, first, second] of [["dup-a", "a-old", "b-new"], ["dup-b", "a-new", "b-old"]] as const) {
      const ip = await service(name);
      for (const sliceName of [first, second]) {
        const leaving = sliceName.endsWith("-old");
        const body = sliceSpec(ns, name, target, [{ ip: b.ip, nodeName: otherNode }]);
        const endpoint = body.endpoints?.[0];
        if (endpoint !== undefined && leaving) endpoint.conditions = { ready: false, serving: false, terminating: true };
        await putSlice(c.discovery, { ...body, metadata: { ...body.metadata, name: `${name}-${sliceName}` } });
      }
      await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 }))[0] === "pxt-b", `${name} answers`);
      expect(backends(await topo.probe(client.ns, "tcp", ip, 80, { count: 5 }))).toEqual(Array(5).fill("pxt-b"));
    }
  });

  it("masquerades a pod reaching itself when its endpoint names a node that does not exist", async () => {
    // The pod runs here (its IP is in this node's pod CIDR) whatever the slice says: it needs its hairpin rule.
    const ip = await service("ghost");
    await endpoints("ghost", [{ pod: a, nodeName: "px-no-such-node" }]);
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 }))[0] === "pxt-a", "the Service answers");
    const fromA = await topo.probe(a.ns, "tcp", ip, 80, { count: 5, timeoutMs: 3000 });
    expect(backends(fromA)).toEqual(Array(5).fill("pxt-a"));
    for (const o of fromA) expect(o.reply?.split(" ")[1]).not.toBe(a.ip);
  });

  it("refuses a connection to a Service without endpoints at once", async () => {
    const ip = await service("empty");
    await eventually(async () => (await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 }))[0]?.error === "ECONNREFUSED", "refused");
    expect(await topo.probe(topo.node, "tcp", ip, 80, { timeoutMs: 5000 })).toEqual([{ error: "ECONNREFUSED" }]);
  });

  it("moves traffic to the remaining endpoints when one is removed", async () => {
    const ip = await service("moving");
    await endpoints("moving", [a, b]);
    await eventually(async () => new Set(backends(await topo.probe(client.ns, "tcp", ip, 80, { count: 10, timeoutMs: 1000 }))).size === 2, "both endpoints used");
    await endpoints("moving", [b]);
    await eventually(async () => {
      const seen = backends(await topo.probe(client.ns, "tcp", ip, 80, { count: 10, timeoutMs: 1000 }));
      return seen.length === 10 && seen.every((n) => n === "pxt-b");
    }, "only the remaining endpoint");
  });

  it("answers a NodePort from outside on the node's address, and on localhost from the node", async () => {
    await service("np", { type: "NodePort" });
    await endpoints("np", [a]);
    const svc = await c.core.readNamespacedService({ namespace: ns, name: "np" });
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { timeoutMs: 1000 })).length === 1, "the node port answers");
    const [outcome] = await topo.probe(topo.outside, "tcp", nodeIP, nodePort);
    // Cluster policy: masqueraded, so the reply can come back through this node.
    expect(outcome?.reply).toBe("pxt-a 10.244.1.1");
    expect(backends(await topo.probe(topo.node, "tcp", "127.0.0.1", nodePort))).toEqual(["pxt-a"]);
  });

  it("serves UDP, and deletes the stale flow when the endpoint a client used goes away", async () => {
    const ip = await service("dns", {}, [{ name: "dns", port: 53, protocol: "UDP" }]);
    await endpoints("dns", [a, b], [{ name: "dns", port: 8080, protocol: "UDP" }]);
    const opts = { localPort: 40053, timeoutMs: 1000 };
    await eventually(async () => backends(await topo.probe(client.ns, "udp", ip, 53, opts)).length === 1, "the UDP service answers");
    const first = backends(await topo.probe(client.ns, "udp", ip, 53, opts))[0];
    const [kept, removed] = first === "pxt-a" ? [b, a] : [a, b];
    const syncs = daemon.logs().length;
    await endpoints("dns", [kept], [{ name: "dns", port: 8080, protocol: "UDP" }]);
    // The removed backend still runs: only deleting the conntrack entry moves this client.
    await eventually(async () => backends(await topo.probe(client.ns, "udp", ip, 53, opts))[0] === kept.name, `the flow moves off ${removed.name}`);
    await daemon.waitForLog((l) => l["msg"] === "stale UDP conntrack entries deleted", "conntrack cleanup logged", syncs);
  });

  it("keeps a client on one endpoint under ClientIP affinity", async () => {
    const ip = await service("sticky", { sessionAffinity: "ClientIP" });
    await endpoints("sticky", [a, b]);
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 })).length === 1, "the sticky service answers");
    const seen = backends(await topo.probe(client.ns, "tcp", ip, 80, { count: 12 }));
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(1);
  });

  it("under externalTrafficPolicy Local reaches only local endpoints, keeps the client's address, and reports health", async () => {
    await service("local", { type: "LoadBalancer", externalTrafficPolicy: "Local" });
    await endpoints("local", [a, { pod: b, nodeName: otherNode }]);
    const svc = await c.core.readNamespacedService({ namespace: ns, name: "local" });
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    const hcPort = svc.spec?.healthCheckNodePort ?? 0;
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { timeoutMs: 1000 })).length === 1, "the local node port answers");
    const outcomes = await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { count: 10 });
    expect(outcomes.map((o) => o.reply)).toEqual(Array(10).fill(`pxt-a ${outsideIP}`));

    await eventually(async () => (await daemon.get(hcPort, "/")).status === 200, "health check node port says 200");
    const healthy = await daemon.get(hcPort, "/");
    expect(JSON.parse(healthy.body)).toEqual({ service: { namespace: ns, name: "local" }, localEndpoints: 1, serviceProxyHealthy: true });
    expect(healthy.body).toBe(`{\n\t"service": {\n\t\t"namespace": "${ns}",\n\t\t"name": "local"\n\t},\n\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}`);

    await endpoints("local", [{ pod: b, nodeName: otherNode }]);
    await eventually(async () => (await daemon.get(hcPort, "/")).status === 503, "health check node port says 503");
    expect(JSON.parse((await daemon.get(hcPort, "/")).body)).toMatchObject({ localEndpoints: 0 });
    // No local endpoint: external traffic is dropped here, pods still reach the Service.
    await eventually(async () => (await topo.probe(topo.outside, "tcp", nodeIP, nodePort, { timeoutMs: 1000 }))[0]?.error === "timeout", "dropped");
    expect(backends(await topo.probe(client.ns, "tcp", svc.spec?.clusterIP ?? "", 80))).toEqual(["pxt-b"]);
  });

  it("serves an externalIP, and a LoadBalancer IP only to the allowed source range", async () => {
    const externalIP = "203.0.113.10";
    const lbIP = "203.0.113.20";
    await service("edge", { type: "LoadBalancer", externalIPs: [externalIP], loadBalancerSourceRanges: [`${outsideIP}/32`] });
    const svc = await c.core.readNamespacedService({ namespace: ns, name: "edge" });
    await c.core.replaceNamespacedServiceStatus({ namespace: ns, name: "edge", body: { ...svc, status: { loadBalancer: { ingress: [{ ip: lbIP }] } } } });
    await endpoints("edge", [a]);
    await eventually(async () => backends(await topo.probe(topo.outside, "tcp", lbIP, 80, { localAddress: outsideIP, timeoutMs: 1000 })).length === 1, "the LB IP answers the allowed source");
    expect(backends(await topo.probe(topo.outside, "tcp", externalIP, 80, { localAddress: otherOutsideIP }))).toEqual(["pxt-a"]);
    expect(backends(await topo.probe(topo.outside, "tcp", lbIP, 80, { localAddress: outsideIP }))).toEqual(["pxt-a"]);
    expect(await topo.probe(topo.outside, "tcp", lbIP, 80, { localAddress: otherOutsideIP, timeoutMs: 1500 })).toEqual([{ error: "timeout" }]);
  });

  it("serves /healthz, /livez and /metrics with kube-proxy's names", async () => {
    const hz = await daemon.get(daemon.healthzPort, "/healthz");
    expect(hz.status).toBe(200);
    expect(JSON.parse(hz.body)).toMatchObject({ nodeEligible: true });
    expect((await daemon.get(daemon.healthzPort, "/livez")).status).toBe(200);
    const metrics = (await daemon.get(daemon.metricsPort, "/metrics")).body;
    for (const name of [
      "kubeproxy_sync_proxy_rules_duration_seconds_bucket",
      "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      'kubeproxy_sync_proxy_rules_iptables_total{table="nat",ip_family="IPv4"}',
      'kubeproxy_conntrack_reconciler_sync_duration_seconds_count{ip_family="IPv4"}',
      "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
      "kubeproxy_network_programming_duration_seconds_count",
    ]) {
      expect(metrics).toContain(name);
    }
    expect(Number(/^kubeproxy_network_programming_duration_seconds_count\{ip_family="IPv4"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it("past 64 Services splits KUBE-SERVICES by destination prefix, and every Service still reaches its own endpoint", async () => {
    const names = Array.from({ length: 70 }, (_, i) => `split-${i}`);
    const ips = await Promise.all(names.map((name) => service(name)));
    try {
      await Promise.all(names.map((name, i) => endpoints(name, [i % 2 === 0 ? a : b])));
      const expected = (i: number): string => (i % 2 === 0 ? "pxt-a" : "pxt-b");
      // The slices arrive in any order and may take several syncs: wait until every Service's rule is in.
      let chains = new Map<string, string[]>();
      await eventually(async () => {
        chains = chainsOf(await topo.node.run("iptables-save", ["-t", "nat"]));
        const entries = serviceEntryRules(chains);
        return ips.every((ip) => entries.some((r) => r.includes(`-d ${ip}/32 `)));
      }, "every Service's rule is in");
      for (let i = 0; i < names.length; i += 3) {
        expect(backends(await topo.probe(client.ns, "tcp", ips[i] ?? "", 80)), `${names[i] ?? ""} at ${ips[i] ?? ""}`).toEqual([expected(i)]);
      }
      // An endpoint moves: the partial sync that follows writes that Service's chains and
      // KUBE-SERVICES, and leaves the KUBE-DST chains in the kernel as they were.
      const dispatch = [...chains].filter(([name]) => name.startsWith("nat/KUBE-DST-"));
      await endpoints(names[0] ?? "", [b]);
      await eventually(async () => backends(await topo.probe(client.ns, "tcp", ips[0] ?? "", 80, { timeoutMs: 1000 }))[0] === "pxt-b", "the moved Service answers from b");
      const after = chainsOf(await topo.node.run("iptables-save", ["-t", "nat"]));
      for (const [name, rules] of dispatch) expect(after.get(name), name).toEqual(rules);
      const metrics = (await daemon.get(daemon.metricsPort, "/metrics")).body;
      const written = Number(/^kubeproxy_sync_proxy_rules_iptables_last\{table="nat",ip_family="IPv4"\} (\d+)/m.exec(metrics)?.[1]);
      expect(written).toBeLessThan(names.length);
      const top = chains.get("nat/KUBE-SERVICES") ?? [];
      expect(top.filter((r) => / -j KUBE-DST-\S+$/.test(r)).length).toBeGreaterThan(1);
      // No Service's own rule is left in KUBE-SERVICES; each is in the chain of its prefix.
      for (const ip of ips) {
        expect(top.some((r) => r.includes(`-d ${ip}/32 `))).toBe(false);
        expect(serviceEntryRules(chains).filter((r) => r.includes(`-d ${ip}/32 `))).toHaveLength(1);
      }
    } finally {
      await Promise.all(names.map((name) => c.core.deleteNamespacedService({ name, namespace: ns }).catch(() => undefined)));
    }
  });

  it("prints with `render` exactly the rules the daemon programmed, and they load into a fresh namespace", async () => {
    const dir = await mkdtemp(join(tmpdir(), "signpost-render-"));
    const fresh = await NetNs.create("pxt-render");
    try {
      const list = async (path: string, kind: string, apiVersion: string): Promise<unknown[]> => {
        const page = (await c.api.getJson(path, {}, AbortSignal.timeout(30_000))) as { items?: Record<string, unknown>[] };
        return (page.items ?? []).map((item) => ({ ...item, kind, apiVersion }));
      };
      let daemonRules = "";
      let rendered = "";
      await eventually(async () => {
        const items = [
          ...(await list("/api/v1/nodes", "Node", "v1")),
          ...(await list("/api/v1/services", "Service", "v1")),
          ...(await list("/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice", "discovery.k8s.io/v1")),
        ];
        const file = join(dir, "objects.json");
        await writeFile(file, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
        const out = await runProxyCommand(["render", "--objects", file, "--node", nodeName, "--cluster-cidr", clusterCIDR]);
        expect(out.exitCode, out.stderr).toBe(0);
        rendered = out.stdout;
        daemonRules = await topo.node.run("iptables-save", []);
        return JSON.stringify([...chainsOf(daemonRules)]) === JSON.stringify([...chainsOf(await applied(fresh, rendered))]);
      }, "the daemon's rules equal the rendered ones", 30_000);
      expect(serviceEntryRules(chainsOf(daemonRules)).length).toBeGreaterThan(5);
    } finally {
      await fresh.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Restores text into a namespace with no rules (flushing what an earlier try left) and saves it. */
async function applied(fresh: NetNs, text: string): Promise<string> {
  await fresh.run("iptables", ["-t", "nat", "-F"]);
  await fresh.run("iptables", ["-t", "nat", "-X"]);
  await fresh.run("iptables", ["-t", "filter", "-F"]);
  await fresh.run("iptables", ["-t", "filter", "-X"]);
  await fresh.run("iptables-restore", ["-w", "5"], { input: text });
  return fresh.run("iptables-save", []);
}
