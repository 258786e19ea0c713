// The node-local DNS layout on the local cluster (deploy/ with the deploy/node-local component):
// a signpost-dns replica on each node answering on the kube-dns ClusterIP, and each node's
// signpost-proxy (--node-local-replica) delivering that ClusterIP's DNS traffic to it untracked
// while it is ready. Proven with real clients in a pod (dig, getent) and the node's own
// netfilter: which replica answered (each replica's request counter), that the node's conntrack
// table holds no entry for the untracked queries, and that queries go on, answered by the
// Deployment's replicas through DNAT, when the node's replica is removed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCluster, LocalNode } from "../support/localcluster/local-cluster.ts";
import { CLUSTER_DNS_IP } from "../support/localcluster/local-cluster.ts";
import { eventually } from "../support/eventually.ts";
import { type PodInfo, applyManifest, echoDeploymentManifest, namespaceWithServiceManifest, clientPodManifest, coreFor, inNetns, kubectlFor, listPods, startClusterWithSignpost, waitForReadyPods } from "../support/local-cluster.ts";
import { metricValue } from "../support/fault-traffic.ts";

const NS = "nodelocal";
const name = `target.${NS}.svc.cluster.local`;

let c: LocalCluster;
let client: PodInfo;
let node: LocalNode;
let targetIP = "";

const netnsOf = (p: PodInfo): string => c.podNetns(p.node, p.uid, p.hostNetwork);

/** A replica's coredns_dns_requests_total, read from its node's network namespace; null when it does not answer. */
async function requestsAt(nodeNetns: string, url: string): Promise<number | null> {
  const r = await inNetns(nodeNetns, "curl", ["-s", "-f", "-m", "3", url]);
  return r.exitCode === 0 ? metricValue(r.stdout, "coredns_dns_requests_total") : null;
}

const nodeLocalRequests = (): Promise<number | null> => requestsAt(node.netns, `http://${node.ip}:9253/metrics`);

/** The sum over the Deployment's replicas (kube-dns endpoints). */
async function deploymentRequests(): Promise<number> {
  let sum = 0;
  for (const p of await listPods(c, "kube-system", "k8s-app=kube-dns")) sum += (await requestsAt(node.netns, `http://${p.ip}:9153/metrics`)) ?? 0;
  return sum;
}

async function digOnce(): Promise<boolean> {
  const r = await inNetns(netnsOf(client), "dig", ["+tries=1", "+time=2", `@${CLUSTER_DNS_IP}`, name, "A"]);
  return r.exitCode === 0 && r.stdout.includes("status: NOERROR") && r.stdout.split("\n").some((l) => l.startsWith(name) && l.trim().endsWith(targetIP));
}

/** conntrack entries for DNS to the kube-dns ClusterIP in the node's table (UDP and TCP). */
async function dnsConntrackEntries(): Promise<string[]> {
  const out: string[] = [];
  for (const proto of ["udp", "tcp"]) {
    const r = await inNetns(node.netns, "conntrack", ["-L", "-p", proto, "--orig-dst", CLUSTER_DNS_IP, "--dport", "53"]);
    out.push(...r.stdout.split("\n").filter((l) => l.includes(`dst=${CLUSTER_DNS_IP}`)));
  }
  return out;
}

async function flushDnsConntrack(): Promise<void> {
  for (const proto of ["udp", "tcp"]) await inNetns(node.netns, "conntrack", ["-D", "-p", proto, "--orig-dst", CLUSTER_DNS_IP, "--dport", "53"]);
}

/** The proxy's rules in the node's raw table (both of its chains). */
async function rawChain(): Promise<string[]> {
  const out: string[] = [];
  for (const chain of ["SIGNPOST-NODE-LOCAL", "SIGNPOST-NODE-LOCAL-OUT"]) {
    const r = await inNetns(node.netns, "iptables", ["-t", "raw", "-S", chain]);
    out.push(...r.stdout.split("\n").filter((l) => l.startsWith("-A ")));
  }
  return out;
}

/**
 * glibc lookups as pods make them (timeout 5 s, 2 attempts: one retry) in a loop from the client
 * pod while `during` runs, and for 10 more after it.
 */
async function lookupsWhile(during: () => Promise<void>): Promise<{ failures: number; lookups: number }> {
  let failures = 0;
  let lookups = 0;
  let looping = true;
  const loop = (async () => {
    while (looping) {
      const r = await inNetns(netnsOf(client), "getent", ["ahosts", name], 30_000);
      lookups++;
      if (!r.stdout.includes(targetIP)) failures++;
    }
  })();
  try {
    await eventually(() => lookups >= 5, "the lookup loop runs", 60_000);
    await during();
    const after = lookups + 10;
    await eventually(() => lookups >= after, "lookups after the change", 120_000);
  } finally {
    looping = false;
    await loop;
  }
  return { failures, lookups };
}

beforeAll(async () => {
  c = await startClusterWithSignpost({ nodeLocalDns: true });
  const first = c.nodes[0];
  if (first === undefined) throw new Error("no node");
  node = first;
  await applyManifest(c, `${namespaceWithServiceManifest(NS, "target")}---
${clientPodManifest(NS, node.name)}`);
  [client] = (await waitForReadyPods(c, NS, "run=client", 1, "the client pod")) as [PodInfo];
  targetIP = (await coreFor(c).readNamespacedService({ namespace: NS, name: "target" })).spec?.clusterIP ?? "";
}, 300_000);

afterAll(async () => {
  await c?.stop();
}, 120_000);

describe("node-local DNS", () => {
  it("the node's own replica answers the kube-dns ClusterIP, untracked: no conntrack entry for its queries", async () => {
    await eventually(async () => (await rawChain()).some((r) => r.startsWith("-A SIGNPOST-NODE-LOCAL ") && r.includes(`-d ${CLUSTER_DNS_IP}/32`) && r.includes("-j NOTRACK")), "the proxy's NOTRACK rules for the kube-dns ClusterIP", 60_000);
    await eventually(digOnce, `${name} resolves from the client pod`, 60_000);
    await flushDnsConntrack();
    const localBefore = (await nodeLocalRequests()) ?? 0;
    const deploymentBefore = await deploymentRequests();
    for (let i = 0; i < 20; i++) expect(await digOnce(), `dig ${i}`).toBe(true);
    // glibc's resolver too, with its parallel A and AAAA over one socket.
    const getent = await inNetns(netnsOf(client), "getent", ["ahosts", name]);
    expect(getent.stdout).toContain(targetIP);
    expect(((await nodeLocalRequests()) ?? 0) - localBefore, "queries counted by the node-local replica").toBeGreaterThanOrEqual(22);
    expect((await deploymentRequests()) - deploymentBefore, "queries counted by the Deployment's replicas").toBe(0);
    expect(await dnsConntrackEntries(), "conntrack entries for the untracked DNS").toEqual([]);
  });

  it("the node's replica SIGKILLed (as an OOM kill): no lookup fails; pods' queries fall through to DNAT while no socket is bound, and the restarted replica takes them again", async () => {
    const [local] = (await listPods(c, "kube-system", "k8s-app=signpost-dns-node-local")).filter((p) => p.node === node.name);
    if (local === undefined) throw new Error(`no node-local replica on ${node.name}`);
    const proc = node.kubelet.containerProcess("kube-system", local.name, "signpost-dns");
    if (proc === null) throw new Error(`no process for ${local.name}`);
    const { failures, lookups } = await lookupsWhile(async () => {
      proc.signal("SIGKILL");
      await eventually(() => {
        const next = node.kubelet.containerProcess("kube-system", local.name, "signpost-dns");
        return next !== null && next !== proc && next.running;
      }, "the kubelet restarts the replica", 60_000);
      await eventually(async () => (await nodeLocalRequests()) !== null, "the restarted replica serves metrics", 60_000);
    });
    expect(failures, `${failures} of ${lookups} lookups failed`).toBe(0);
    const before = (await nodeLocalRequests()) ?? 0;
    await eventually(async () => (await digOnce()) && ((await nodeLocalRequests()) ?? 0) > before, "the restarted replica answers again", 60_000);
  });

  it("the node's replica removed: queries go on, answered by the Deployment's replicas through DNAT (tracked again)", async () => {
    const [local] = (await listPods(c, "kube-system", "k8s-app=signpost-dns-node-local")).filter((p) => p.node === node.name);
    if (local === undefined) throw new Error(`no node-local replica on ${node.name}`);
    const { failures, lookups } = await lookupsWhile(async () => {
      // Keep the DaemonSet off this node: its pod there is deleted (lameduck) and not replaced.
      const patch = await kubectlFor(c)("-n", "kube-system", "patch", "daemonset", "signpost-dns-node-local", "--type=merge", "-p", `{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"${c.nodes[1]?.name ?? ""}"}}}}}`);
      expect(patch.exitCode, patch.stderr).toBe(0);
      await eventually(async () => (await listPods(c, "kube-system", "k8s-app=signpost-dns-node-local")).every((p) => p.uid !== local.uid), "the node-local replica on the client's node is gone", 120_000);
      await eventually(async () => (await rawChain()).length === 0, "the NOTRACK rules removed", 60_000);
    });
    expect(failures, `${failures} of ${lookups} lookups failed`).toBe(0);

    await flushDnsConntrack();
    const deploymentBefore = await deploymentRequests();
    for (let i = 0; i < 5; i++) expect(await digOnce(), `dig ${i}`).toBe(true);
    expect((await deploymentRequests()) - deploymentBefore, "queries counted by the Deployment's replicas").toBeGreaterThanOrEqual(5);
    expect((await dnsConntrackEntries()).length, "conntrack entries for DNATed DNS").toBeGreaterThan(0);
  });
});

// The Kubernetes way to prefer the node's own endpoint, which the steering above is built beside:
// the EndpointSlice controller writes node hints for trafficDistribution: PreferSameNode and the
// proxy follows them as kube-proxy's CategorizeEndpoints does (DNAT, so tracked: it is no cure
// for the conntrack race, hence NOTRACK above).
describe("trafficDistribution: PreferSameNode", () => {
  it("sends the client's connections to the echo replica on its own node while there is one, to the other node's when not", async () => {
    await applyManifest(c, `${echoDeploymentManifest(NS, { onePerNode: true })}---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${NS} }
spec:
  selector: { run: echo }
  trafficDistribution: PreferSameNode
  ports: [{ port: 80, targetPort: 8080 }]
`);
    const echoes = await waitForReadyPods(c, NS, "run=echo", 2, "an echo replica on each node");
    const mine = echoes.find((p) => p.node === node.name);
    if (mine === undefined) throw new Error(`no echo replica on ${node.name}`);
    const ip = (await coreFor(c).readNamespacedService({ namespace: NS, name: "echo" })).spec?.clusterIP ?? "";
    const servedBy = async (): Promise<string> => {
      const r = await inNetns(netnsOf(client), "curl", ["-s", "-m", "3", `http://${ip}/`]);
      return r.exitCode === 0 ? ((JSON.parse(r.stdout) as { hostname?: string }).hostname ?? "") : `curl exit ${r.exitCode}`;
    };
    const hostnames = async (n: number): Promise<Set<string>> => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) seen.add(await servedBy());
      return seen;
    };
    // The controller writes the hints once the Service asks; then only the local replica serves.
    await eventually(async () => (await servedBy()) === mine.name, "the node's own echo replica answers", 60_000);
    expect([...(await hostnames(20))]).toEqual([mine.name]);
    // Its replica goes, and no other can come here (the node cordoned; anti-affinity keeps it off
    // the other node): the hints left name the other node only, and its replica serves this node too.
    const cordon = await kubectlFor(c)("cordon", node.name);
    expect(cordon.exitCode, cordon.stderr).toBe(0);
    const del = await kubectlFor(c)("-n", NS, "delete", "pod", mine.name, "--wait=false");
    expect(del.exitCode, del.stderr).toBe(0);
    const other = echoes.find((p) => p.node !== node.name)?.name ?? "";
    await eventually(async () => (await servedBy()) === other, "the other node's echo replica answers", 60_000);
    expect([...(await hostnames(10))]).toEqual([other]);
    await kubectlFor(c)("uncordon", node.name);
  });
});

