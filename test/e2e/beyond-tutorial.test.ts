// Beyond the tutorial: the same local cluster with signpost applied from deploy/, and
// three disruptions while real clients keep going. A backend pod is deleted while a client keeps
// connecting to its Service; one signpost-dns replica is killed while a retrying client keeps
// querying; one signpost-proxy pod is deleted while traffic keeps flowing through a ClusterIP and a
// NodePort. Each client is bounded (one attempt every 100 ms, a fixed wall-clock cap) and counts
// its failures over the whole run; none may fail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscoveryV1Api, KubeConfig } from "@kubernetes/client-node";
import type { LocalCluster } from "../support/localcluster/local-cluster.ts";
import { CLUSTER_DNS_IP } from "../support/localcluster/local-cluster.ts";
import { eventually } from "../support/eventually.ts";
import { type Attempt, CountingClient, describeCounts, httpAttempt } from "../support/fault-traffic.ts";
import { type PodInfo, applyManifest, coreFor, inNetns, kubectlFor, listPods, startClusterWithSignpost, waitForReadyPods, clientPodManifest, echoDeploymentManifest } from "../support/local-cluster.ts";

const NS = "beyond";

let c: LocalCluster;
let kubectl: ReturnType<typeof kubectlFor>;

const apply = (manifest: string): Promise<void> => applyManifest(c, manifest);
const pods = (namespace: string, selector: string): Promise<PodInfo[]> => listPods(c, namespace, selector);

function readyPods(namespace: string, selector: string, count: number, what: string, timeoutMs = 90_000): Promise<PodInfo[]> {
  return waitForReadyPods(c, namespace, selector, count, what, timeoutMs);
}

function netnsOf(p: PodInfo): string {
  return c.podNetns(p.node, p.uid, p.hostNetwork);
}

async function clusterIP(namespace: string, name: string): Promise<string> {
  return (await coreFor(c).readNamespacedService({ namespace, name })).spec?.clusterIP ?? "";
}

/** True once no pod with this name and uid is left in the API (the kubelet's final delete went through). */
async function podGone(namespace: string, name: string, uid: string): Promise<boolean> {
  const list = await coreFor(c).listNamespacedPod({ namespace, fieldSelector: `metadata.name=${name}` });
  return !list.items.some((p) => p.metadata?.uid === uid);
}

interface SliceEndpoint {
  readonly ip: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

async function sliceEndpoints(namespace: string, service: string): Promise<SliceEndpoint[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses.map((ip) => ({
    ip,
    ready: e.conditions?.ready === true,
    serving: e.conditions?.serving === true,
    terminating: e.conditions?.terminating === true,
  }))));
}

beforeAll(async () => {
  c = await startClusterWithSignpost();
  kubectl = kubectlFor(c);
  await apply(`
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
${clientPodManifest(NS)}`);
  await readyPods(NS, "run=client", 1, "the client pod", 60_000);
}, 300_000);
afterAll(async () => {
  await c.stop();
});

async function clientPod(): Promise<PodInfo> {
  const [p] = await pods(NS, "run=client");
  if (p === undefined) throw new Error("no client pod");
  return p;
}

describe("beyond the tutorial: disruptions while clients keep going", () => {
  it("a backend pod deleted while a client keeps connecting: no failed connection, before, during or after termination", async () => {
    // The server keeps serving through its grace period, as a well-behaved app does: TERM is
    // ignored (the kubelet signals the whole process group), SIGKILL comes after 5 s.
    await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { run: web } }
  template:
    metadata: { labels: { run: web } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: web
          image: busybox
          command: [sh, -c, 'trap "" TERM; exec python3 -m http.server 80 --bind 0.0.0.0 --directory /usr/share/common-licenses']
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec:
  selector: { run: web }
  ports: [{ port: 80, targetPort: 80 }]
`);
    const replicas = await readyPods(NS, "run=web", 2, "two web replicas");
    const ip = await clusterIP(NS, "web");
    const client = await clientPod();
    const url = `http://${ip}/`;
    await eventually(async () => (await httpAttempt(netnsOf(client), url)()) === null, "the web Service answers the client pod");

    const started = Date.now();
    const run = new CountingClient("connections to the web ClusterIP", httpAttempt(netnsOf(client), url), 30_000);
    await eventually(() => run.counts.sent >= 10, "the client is connecting", 20_000);
    const [victim] = replicas;
    if (victim === undefined) throw new Error("no replica");
    run.phase = "terminating";
    const del = await kubectl("-n", NS, "delete", "pod", victim.name, "--wait=false");
    expect(del.exitCode, del.stderr).toBe(0);
    let sawTerminating = false;
    await eventually(async () => {
      const eps = await sliceEndpoints(NS, "web");
      sawTerminating ||= eps.some((e) => e.ip === victim.ip && e.terminating && !e.ready);
      return sawTerminating || (await podGone(NS, victim.name, victim.uid));
    }, "the deleted replica shows as terminating in the EndpointSlice", 30_000);
    await eventually(() => podGone(NS, victim.name, victim.uid), "the deleted replica is gone after its grace period", 30_000);
    run.phase = "after";
    await readyPods(NS, "run=web", 2, "a replacement replica ready");
    const tail = run.counts.sent + 20;
    await eventually(() => run.counts.sent >= tail, "the client kept connecting after the replacement", 20_000).catch(() => undefined);
    await run.stop();
    const r = run.counts;
    console.log(`[beyond] ${describeCounts(r)}; saw terminating endpoint: ${String(sawTerminating)}; ${Math.round((Date.now() - started) / 1000)} s`);
    expect(sawTerminating, "the EndpointSlice showed the deleted replica terminating").toBe(true);
    expect(r.byPhase.get("terminating")?.sent ?? 0, "attempts while the replica was terminating").toBeGreaterThan(0);
    expect(r.failed, describeCounts(r)).toBe(0);
  });

  it("one DNS replica killed: a retrying client's queries keep being answered", async () => {
    await apply(`
apiVersion: v1
kind: Service
metadata: { name: dns-target, namespace: ${NS} }
spec:
  ports: [{ port: 80 }]
`);
    const ip = await clusterIP(NS, "dns-target");
    const name = `dns-target.${NS}.svc.cluster.local`;
    const client = await clientPod();
    // Each try dig gives up on leaves a "timed out" line in its output: those are the retries.
    let retries = 0;
    const query: Attempt = async () => {
      const r = await inNetns(netnsOf(client), "dig", ["+tries=3", "+time=1", `@${CLUSTER_DNS_IP}`, name, "A"], 15_000);
      retries += (r.stdout.match(/timed out/g) ?? []).length;
      const answered = r.exitCode === 0 && r.stdout.includes("status: NOERROR") && r.stdout.split("\n").some((l) => l.startsWith(name) && l.trim().endsWith(ip));
      return answered ? null : `dig ${name}: exit ${r.exitCode}: ${r.stdout.split("\n").filter((l) => l.startsWith(";;")).slice(0, 3).join(" / ")}`;
    };
    await eventually(async () => (await query()) === null, `${name} resolves from the client pod`);
    retries = 0;
    const started = Date.now();
    const run = new CountingClient(`dig +tries=3 +time=1 ${name}`, query, 30_000);
    await eventually(() => run.counts.sent >= 10, "the client is querying", 20_000);
    const dns = await readyPods("kube-system", "k8s-app=kube-dns", 2, "two DNS replicas");
    const [victim] = dns;
    if (victim === undefined) throw new Error("no DNS replica");
    run.phase = "killed";
    const del = await kubectl("-n", "kube-system", "delete", "pod", victim.name, "--grace-period=0", "--force", "--wait=false");
    expect(del.exitCode, del.stderr).toBe(0);
    await eventually(() => podGone("kube-system", victim.name, victim.uid), "the killed DNS pod is gone", 30_000);
    await eventually(async () => !(await sliceEndpoints("kube-system", "kube-dns")).some((e) => e.ip === victim.ip), "the killed replica left the kube-dns EndpointSlice", 30_000);
    await readyPods("kube-system", "k8s-app=kube-dns", 2, "a replacement DNS replica ready", 120_000);
    run.phase = "after";
    const tail = run.counts.sent + 20;
    await eventually(() => run.counts.sent >= tail, "the client kept querying after the replacement", 20_000).catch(() => undefined);
    await run.stop();
    const r = run.counts;
    console.log(`[beyond] ${describeCounts(r)}; timed-out tries retried by dig: ${retries}; ${Math.round((Date.now() - started) / 1000)} s`);
    expect(r.byPhase.get("killed")?.sent ?? 0, "queries after the kill").toBeGreaterThan(0);
    expect(r.failed, describeCounts(r)).toBe(0);
  });

  it("a proxy pod deleted: the DaemonSet brings it back, and ClusterIP and NodePort traffic keeps flowing", async () => {
    await apply(`
${echoDeploymentManifest(NS)}---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${NS} }
spec:
  type: NodePort
  selector: { run: echo }
  ports: [{ port: 80, targetPort: 8080, nodePort: 30091 }]
`);
    await readyPods(NS, "run=echo", 2, "two echo replicas");
    const client = await clientPod();
    const node = c.nodes.find((n) => n.name === client.node);
    if (node === undefined) throw new Error(`no node ${client.node}`);
    const ip = await clusterIP(NS, "echo");
    const viaClusterIP = httpAttempt(netnsOf(client), `http://${ip}/`);
    const viaNodePort = httpAttempt(c.externalNetns, `http://${node.ip}:30091/`);
    await eventually(async () => (await viaClusterIP()) === null, "the echo ClusterIP answers the client pod");
    await eventually(async () => (await viaNodePort()) === null, `NodePort 30091 on ${node.name} answers the external client`);

    const proxies = await pods("kube-system", "k8s-app=signpost-proxy");
    const victim = proxies.find((p) => p.node === node.name);
    if (victim === undefined) throw new Error(`no signpost-proxy on ${node.name}`);
    const started = Date.now();
    const runs = [
      new CountingClient(`ClusterIP ${ip}:80 from a pod on ${node.name}`, viaClusterIP, 45_000),
      new CountingClient(`NodePort ${node.ip}:30091 from the external client`, viaNodePort, 45_000),
    ];
    await eventually(() => runs.every((r) => r.counts.sent >= 10), "both clients are connecting", 20_000);
    // "proxy replaced": from the delete until the new proxy has programmed its first sync.
    for (const r of runs) r.phase = "proxy replaced";
    const del = await kubectl("-n", "kube-system", "delete", "pod", victim.name, "--wait=false");
    expect(del.exitCode, del.stderr).toBe(0);
    await eventually(() => podGone("kube-system", victim.name, victim.uid), "the deleted proxy pod is gone", 60_000);
    await eventually(async () => (await pods("kube-system", "k8s-app=signpost-proxy")).some((p) => p.node === node.name && p.uid !== victim.uid && p.ready), `a new signpost-proxy ready on ${node.name}`, 90_000);
    const fresh = (await pods("kube-system", "k8s-app=signpost-proxy")).find((p) => p.node === node.name && p.uid !== victim.uid);
    // The DaemonSet has no readiness probe, so Ready only means started: wait for the new
    // process's first sync (its metric is absent or 0 until then).
    await eventually(async () => {
      const m = await inNetns(node.netns, "curl", ["-s", "-m", "3", "http://127.0.0.1:10249/metrics"]);
      const line = m.stdout.split("\n").find((l) => l.startsWith("kubeproxy_sync_proxy_rules_last_timestamp_seconds"));
      return Number(line?.split(/\s+/)[1] ?? "0") > 0;
    }, `the new signpost-proxy (${fresh?.name ?? "?"}) has synced its rules`, 60_000);
    for (const r of runs) r.phase = "after";
    const tails = runs.map((r) => r.counts.sent + 20);
    await eventually(() => runs.every((r, i) => r.counts.sent >= (tails[i] ?? 0)), "the clients kept connecting after the proxy came back", 20_000).catch(() => undefined);
    await Promise.all(runs.map((r) => r.stop()));
    const results = runs.map((r) => r.counts);
    for (const r of results) console.log(`[beyond] ${describeCounts(r)}; ${Math.round((Date.now() - started) / 1000)} s`);
    const ready = (await pods("kube-system", "k8s-app=signpost-proxy")).filter((p) => p.ready);
    expect(new Set(ready.map((p) => p.node))).toEqual(new Set(c.nodes.map((n) => n.name)));
    for (const r of results) {
      expect(r.byPhase.get("proxy replaced")?.sent ?? 0, `${r.what}: attempts while the proxy was replaced`).toBeGreaterThan(0);
      expect(r.failed, describeCounts(r)).toBe(0);
    }
  });
  it("hairpin: a pod reaches itself through its own Service, and sees the node as the source", async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: { name: selfie, namespace: ${NS}, labels: { run: selfie } }
spec:
  containers:
    - name: echo
      image: signpost/echo
      ports: [{ containerPort: 8080 }]
      readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: selfie, namespace: ${NS} }
spec:
  selector: { run: selfie }
  ports: [{ port: 80, targetPort: 8080 }]
`);
    const [self] = await readyPods(NS, "run=selfie", 1, "the selfie pod");
    if (self === undefined) throw new Error("no selfie pod");
    const ip = await clusterIP(NS, "selfie");
    let answer = "";
    await eventually(async () => {
      const r = await inNetns(netnsOf(self), "curl", ["-s", "-m", "3", `http://${ip}/`]);
      answer = r.stdout;
      return r.exitCode === 0 && answer.includes('"hostname":"selfie"');
    }, "the pod reaches itself by its ClusterIP", 30_000);
    // kube-proxy masquerades hairpin traffic, so the reply does not come from the pod's own address.
    const client = (JSON.parse(answer) as { client?: string }).client ?? "";
    expect(client).not.toBe(self.ip);
    expect(client).toBe(c.nodes.find((n) => n.name === self.node)?.ip);
  });
});
