// The fault suite, control-plane faults: on the local cluster with signpost applied
// from deploy/, each fault happens while clients in a pod keep sending, and each reports what it
// sent, what failed and how long things took ([fault] lines on stderr, $TMPDIR/fault-counts.jsonl).
//  - kube-apiserver stopped for 60 s: existing Services keep working by ClusterIP and by name,
//    neither daemon restarts, and a Service made after the restart is programmed;
//  - etcd compacted while the daemons watch, then their watch connections cut: 410 Gone, a relist
//    (their informer metrics show it), and the same rules and the same DNS answers as before;
//  - 1,000 Services created in a burst: all reachable by ClusterIP and by name; the time until the
//    last one works is reported.
// The API server runs without its watch cache here, so that a compacted revision reaches a
// watcher as 410 Gone (with the cache, a reconnecting watch is served from memory). The
// controller manager's node-monitor grace period is raised above the outage: after 60 s without
// an API server it would mark both nodes and every pod NotReady, and the local kubelet (unlike a
// real one) never posts its node status again, so Services would lose their endpoints for a
// reason that has nothing to do with signpost. Its API rate limit is raised for the burst, so
// the time reported is signpost's and not the EndpointSlice controller's 20 requests a second.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type LocalCluster, CLUSTER_DNS_IP, type LocalNode } from "../support/localcluster/local-cluster.ts";
import type { SupervisedProcess } from "../support/localcluster/supervised-process.ts";
import { eventually } from "../support/eventually.ts";
import { type PodInfo, applyManifest, coreFor, inNetns, listPods, waitForReadyPods, clientPodManifest, echoDeploymentManifest, startClusterWithSignpost } from "../support/local-cluster.ts";
import {
  CountingClient, countsJson, describeCounts, digAttempt, duplicates, httpAttempt, metricValue, metricsText, natRules, proxyMetricsText, reportFault, ruleDiff,
} from "../support/fault-traffic.ts";

const NS = "faults-cp";
const OUTAGE_MS = 60_000;

let c: LocalCluster;
let client: PodInfo;
let clientNetns = "";
let echoIP = "";
const fqdn = (name: string, ns = NS): string => `${name}.${ns}.svc.cluster.local`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function clusterIP(name: string, namespace = NS): Promise<string> {
  return (await coreFor(c).readNamespacedService({ namespace, name })).spec?.clusterIP ?? "";
}

function service(name: string, namespace = NS): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { run: echo }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

/** A Service without a selector and its one EndpointSlice, naming `ips` on port 8080. */
function selectorlessService(name: string, ips: readonly string[]): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${NS} }
spec:
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-manual, namespace: ${NS}, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
${ips.map((ip) => `  - addresses: ["${ip}"]\n    conditions: { ready: true }`).join("\n")}
`;
}

/** Each signpost daemon's running process, by pod name. */
async function daemonProcesses(): Promise<Map<string, SupervisedProcess | null>> {
  const out = new Map<string, SupervisedProcess | null>();
  for (const [selector, container] of [["k8s-app=signpost-proxy", "signpost-proxy"], ["k8s-app=kube-dns", "signpost-dns"]] as const) {
    for (const p of await listPods(c, "kube-system", selector)) {
      out.set(p.name, c.nodes.find((n) => n.name === p.node)?.kubelet.containerProcess("kube-system", p.name, container) ?? null);
    }
  }
  return out;
}

/** Whether a new Service answers the client by ClusterIP and by name. */
async function reachable(name: string, ip: string): Promise<boolean> {
  return (await httpAttempt(clientNetns, `http://${ip}/`)()) === null
    && (await digAttempt(clientNetns, CLUSTER_DNS_IP, fqdn(name), ip)()) === null
    && (await httpAttempt(clientNetns, `http://${fqdn(name)}/`)()) === null;
}

beforeAll(async () => {
  c = await startClusterWithSignpost({
    // Errors only: while the API server is down, every kubelet retry would warn.
    quietLevel: "error",
    extraApiServerArgs: ["--watch-cache=false"],
    extraControllerManagerArgs: ["--node-monitor-grace-period=300s", "--kube-api-qps=200", "--kube-api-burst=400"],
    readyTimeoutMs: 180_000,
  });
  await applyManifest(c, `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
${clientPodManifest(NS, "node-1")}---
${echoDeploymentManifest(NS)}---
${service("echo")}
---
apiVersion: v1
kind: Service
metadata: { name: echo-headless, namespace: ${NS} }
spec:
  clusterIP: None
  selector: { run: echo }
  ports: [{ port: 8080 }]
`);
  const [p] = await waitForReadyPods(c, NS, "run=client", 1, "the client pod", 90_000);
  if (p === undefined) throw new Error("no client pod");
  client = p;
  clientNetns = c.podNetns(client.node, client.uid);
  await waitForReadyPods(c, NS, "run=echo", 2, "two echo replicas", 120_000);
  echoIP = await clusterIP("echo");
  await eventually(() => reachable("echo", echoIP), "the echo Service answers the client by ClusterIP and name", 90_000);
}, 480_000);

afterAll(async () => {
  await c?.stop();
});

describe("fault suite: the control plane", () => {
  it("kube-apiserver stopped for 60 s: existing Services keep working, and a change after the restart is programmed", async () => {
    const daemonsBefore = await daemonProcesses();
    const http = new CountingClient(`new connections to http://${echoIP}/`, httpAttempt(clientNetns, `http://${echoIP}/`), 400_000, 200);
    const dns = new CountingClient(`dig ${fqdn("echo")} via ${CLUSTER_DNS_IP}`, digAttempt(clientNetns, CLUSTER_DNS_IP, fqdn("echo"), echoIP), 400_000, 200);
    await Promise.all([http.more(10), dns.more(10)]);

    http.phase = dns.phase = "apiserver down";
    const stoppedAt = Date.now();
    await c.controlPlane.stopApiServer();
    const down = await inNetns(clientNetns, "curl", ["-sk", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", "https://10.96.0.1/"]);
    await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
    http.phase = dns.phase = "apiserver restarting";
    const restartAt = Date.now();
    await c.controlPlane.startApiServer();
    const readyAt = Date.now();
    http.phase = dns.phase = "after restart";

    // A change after the restart: a new Service, reachable by ClusterIP and by name. Its
    // EndpointSlice is written here, not by the controller manager, whose own client-go backoff
    // after the outage would be in the figure; what is measured is signpost's way back.
    const echoPods = await listPods(c, NS, "run=echo");
    await applyManifest(c, selectorlessService("after-restart", echoPods.map((p) => p.ip)));
    const createdAt = Date.now();
    const freshIP = await clusterIP("after-restart");
    await eventually(() => reachable("after-restart", freshIP), "the Service made after the restart answers by ClusterIP and by name", 180_000);
    const programmedAt = Date.now();
    await Promise.all([http.more(10), dns.more(10)]);
    const [h, d] = await Promise.all([http.stop(), dns.stop()]);
    const daemonsAfter = await daemonProcesses();
    const restarted = [...daemonsBefore].filter(([name, p]) => p === null || daemonsAfter.get(name) !== p || !p.running).map(([name]) => name);

    reportFault("apiserver-stop-60s",
      `connections sent=${h.sent} failed=${h.failed}; dns queries sent=${d.sent} failed=${d.failed}; `
      + `API down ${seconds(readyAt - stoppedAt)} (ready ${seconds(readyAt - restartAt)} after the restart began); `
      + `a Service made after the restart answered by ClusterIP and name ${seconds(programmedAt - createdAt)} after its creation, `
      + `${seconds(programmedAt - readyAt)} after the API server was ready; daemons restarted: ${restarted.length}`,
      { connections: countsJson(h), dns: countsJson(d), downMs: readyAt - stoppedAt, restartMs: readyAt - restartAt, changeProgrammedMs: programmedAt - createdAt, readyToAnsweredMs: programmedAt - readyAt, daemonsRestarted: restarted, apiWhileDown: down.stdout });

    expect(down.stdout, "the API server really was unreachable from the pod").not.toBe("200");
    expect(http.sentIn("apiserver down"), "connections while the API server was down").toBeGreaterThan(10);
    expect(dns.sentIn("apiserver down"), "queries while the API server was down").toBeGreaterThan(10);
    expect(h.failed, describeCounts(h)).toBe(0);
    expect(d.failed, describeCounts(d)).toBe(0);
    expect(restarted, "no daemon restarted").toEqual([]);
  }, 420_000);

  it("etcd compacted while the daemons watch: 410 Gone, a relist of Services and EndpointSlices, and no rule or record lost or duplicated", async () => {
    for (let i = 0; i < 10; i++) await applyManifest(c, service(`keep-${i}`));
    const names = ["echo", "echo-headless", ...Array.from({ length: 10 }, (_, i) => `keep-${i}`)].map((n) => fqdn(n));
    names.push("kubernetes.default.svc.cluster.local");
    const dnsPods = await waitForReadyPods(c, "kube-system", "k8s-app=kube-dns", 2, "two DNS replicas", 120_000);
    const proxies = await listPods(c, "kube-system", "k8s-app=signpost-proxy");

    /** Every DNS replica's answers for the names, TTLs left out, sorted; one string per replica. */
    const answers = async (): Promise<Map<string, string[]>> => {
      const batch = join(c.dir, "fault-dig-batch");
      await writeFile(batch, names.map((n) => `${n} A +noall +answer +tries=2 +time=2`).join("\n") + "\n");
      const out = new Map<string, string[]>();
      for (const p of dnsPods) {
        const r = await inNetns(c.nodes[0]?.netns ?? "", "dig", [`@${p.ip}`, "-f", batch], 60_000);
        out.set(p.name, r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => l.split(/\s+/).filter((_, i) => i !== 1).join(" ")).sort());
      }
      return out;
    };
    // The proxies' /metrics listen on their node's loopback: read inside the node's namespace.
    const endpoints = [
      ...proxies.map((p) => [p.name, () => proxyMetricsText(c.nodes.find((n) => n.name === p.node)?.netns ?? "")] as const),
      ...dnsPods.map((p) => [p.name, () => metricsText(`http://${p.ip}:9153/metrics`)] as const),
    ];
    /** Relists after 410 Gone, by daemon and informer ("signpost-proxy-x services" -> count). */
    const gone = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      for (const [name, read] of endpoints) {
        const text = await read();
        for (const informer of ["services", "endpointslices"]) {
          out.set(`${name} ${informer}`, metricValue(text, "signpost_informer_restarts_total", `informer="${informer}"`, 'reason="gone"'));
        }
      }
      return out;
    };
    // Wait until both proxies and both DNS replicas have the new Services: then the state is steady.
    const nodeRules = async (): Promise<Map<string, string[]>> => new Map(await Promise.all(c.nodes.map(async (n: LocalNode) => [n.name, await natRules(n.netns)] as const)));
    const keeps = Array.from({ length: 10 }, (_, i) => `${NS}/keep-${i} -> `);
    await eventually(async () => [...(await nodeRules()).values()].every((r) => keeps.every((k) => r.filter((l) => l.includes(k)).length === 2)), "both proxies have both endpoints of every new Service", 120_000);
    await eventually(async () => [...(await answers()).values()].every((a) => names.every((n) => a.filter((l) => l.startsWith(`${n}. `)).length === (n.startsWith("echo-headless.") ? 2 : 1))), "both DNS replicas answer every name", 120_000);
    const rulesBefore = await nodeRules();
    const answersBefore = await answers();
    const goneBefore = await gone();

    const http = new CountingClient(`new connections to http://${echoIP}/`, httpAttempt(clientNetns, `http://${echoIP}/`), 300_000, 200);
    const dns = new CountingClient(`dig ${fqdn("echo")} via ${CLUSTER_DNS_IP}`, digAttempt(clientNetns, CLUSTER_DNS_IP, fqdn("echo"), echoIP), 300_000, 200);
    await Promise.all([http.more(5), dns.more(5)]);
    http.phase = dns.phase = "compacted";
    // Writes the daemons do not watch move etcd on, so their resourceVersions fall behind the compaction.
    for (let i = 0; i < 3; i++) await coreFor(c).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `bump-${i}` }, data: { i: String(i) } } });
    const compactedAt = await c.controlPlane.etcd.compact();
    const cutAt = Date.now();
    // Cut the daemons' watch connections; each resumes from its resourceVersion, now compacted away.
    const port = c.controlPlane.apiServerPort;
    const cuts: string[] = [];
    for (const n of c.nodes) {
      const r = await inNetns(n.netns, "ss", ["-K", "-t", "dst", "172.30.0.1", "dport", "=", `:${port}`]);
      cuts.push(`${n.name}: ${r.stdout.split("\n").filter((l) => l.includes("ESTAB")).length}`);
    }
    for (const p of dnsPods) {
      const r = await inNetns(c.podNetns(p.node, p.uid), "ss", ["-K", "-t", "dst", "10.96.0.1", "dport", "=", ":443"]);
      cuts.push(`${p.name}: ${r.stdout.split("\n").filter((l) => l.includes("ESTAB")).length}`);
    }
    await eventually(async () => {
      const g = await gone();
      return [...goneBefore].every(([name, v]) => (g.get(name) ?? 0) > v);
    }, "the Service and EndpointSlice informers of every proxy and DNS replica relisted after 410 Gone", 120_000);
    const relistedAt = Date.now();
    const goneAfter = await gone();
    http.phase = dns.phase = "after relist";
    // A relist that changed anything would be programmed within the minimum sync period (1 s).
    await sleep(3000);
    const rulesAfter = await nodeRules();
    const answersAfter = await answers();
    // The watch works again after the relist: a change is programmed.
    await applyManifest(c, service("after-relist"));
    const freshIP = await clusterIP("after-relist");
    await eventually(() => reachable("after-relist", freshIP), "a Service made after the relist answers", 120_000);
    await Promise.all([http.more(5), dns.more(5)]);
    const [h, d] = await Promise.all([http.stop(), dns.stop()]);
    const ruleDiffs = [...rulesBefore].map(([n, before]) => ({ node: n, ...ruleDiff(before, rulesAfter.get(n) ?? []), duplicates: duplicates(rulesAfter.get(n) ?? []) }));
    const answerDiffs = [...answersBefore].map(([p, before]) => ({ replica: p, ...ruleDiff(before, answersAfter.get(p) ?? []) }));
    const relisted = [...goneAfter].map(([n, v]) => `${n} +${v - (goneBefore.get(n) ?? 0)}`);

    reportFault("etcd-compaction",
      `compacted at revision ${compactedAt}; watch connections cut (${cuts.join(", ")}); 410 Gone relists: ${relisted.join(", ")} within ${seconds(relistedAt - cutAt)}; `
      + `nat rules lost/added: ${ruleDiffs.map((r) => `${r.node} ${r.lost.length}/${r.added.length}`).join(", ")}; dns answers lost/added: ${answerDiffs.map((a) => `${a.replica} ${a.lost.length}/${a.added.length}`).join(", ")}; `
      + `connections sent=${h.sent} failed=${h.failed}; dns queries sent=${d.sent} failed=${d.failed}`,
      { compactedAt, cuts, relists: Object.fromEntries([...goneAfter].map(([n, v]) => [n, v - (goneBefore.get(n) ?? 0)])), relistMs: relistedAt - cutAt, ruleDiffs, answerDiffs, connections: countsJson(h), dns: countsJson(d) });

    for (const r of ruleDiffs) expect({ lost: r.lost, added: r.added, duplicates: r.duplicates }, `nat rules on ${r.node}`).toEqual({ lost: [], added: [], duplicates: [] });
    for (const a of answerDiffs) expect({ lost: a.lost, added: a.added }, `answers of ${a.replica}`).toEqual({ lost: [], added: [] });
    for (const [, a] of answersAfter) expect(duplicates(a.map((l) => `-A ${l}`)), "no DNS record twice").toEqual([]);
    expect(h.failed, describeCounts(h)).toBe(0);
    expect(d.failed, describeCounts(d)).toBe(0);
  }, 300_000);

  it("1,000 Services created in a burst: all reachable by ClusterIP and by name", async () => {
    const COUNT = 1000;
    const ns = "burst";
    await applyManifest(c, `
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
${echoDeploymentManifest(ns)}`);
    await waitForReadyPods(c, ns, "run=echo", 2, "two echo replicas in the burst namespace", 120_000);
    const core = coreFor(c);
    const names = Array.from({ length: COUNT }, (_, i) => `s${String(i).padStart(4, "0")}`);
    const ips = new Map<string, string>();
    const started = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < names.length) {
        const name = names[next++] ?? "";
        const s = await core.createNamespacedService({ namespace: ns, body: { metadata: { name, namespace: ns }, spec: { selector: { run: "echo" }, ports: [{ port: 80, targetPort: 8080 }] } } });
        ips.set(name, s.spec?.clusterIP ?? "");
      }
    }));
    const createdAt = Date.now();

    const byIP = new Set(names);
    const byName = new Set(names);
    let lastIPAt = 0;
    let lastNameAt = 0;
    let rounds = 0;
    const curlConfig = join(c.dir, "fault-burst-curl");
    const digBatch = join(c.dir, "fault-burst-dig");
    await eventually(async () => {
      rounds++;
      if (byIP.size > 0) {
        await writeFile(curlConfig, [...byIP].map((n) => `url = "http://${ips.get(n) ?? ""}/"\noutput = "/dev/null"\n`).join(""));
        const r = await inNetns(clientNetns, "curl", ["-s", "--parallel", "--parallel-max", "32", "-m", "5", "-w", "%{http_code} %{url_effective}\n", "-K", curlConfig], 120_000);
        const ok = new Set(r.stdout.split("\n").filter((l) => l.startsWith("200 ")).map((l) => l.slice(4)));
        for (const n of [...byIP]) if (ok.has(`http://${ips.get(n) ?? ""}/`)) byIP.delete(n);
        if (byIP.size === 0) lastIPAt = Date.now();
      }
      if (byName.size > 0) {
        await writeFile(digBatch, [...byName].map((n) => `${n}.${ns}.svc.cluster.local A +noall +answer +tries=1 +time=2`).join("\n") + "\n");
        const r = await inNetns(clientNetns, "dig", [`@${CLUSTER_DNS_IP}`, "-f", digBatch], 300_000);
        for (const l of r.stdout.split("\n")) {
          const [owner = "", , , type = "", value = ""] = l.split(/\s+/);
          const n = owner.split(".")[0] ?? "";
          if (type === "A" && byName.has(n) && ips.get(n) === value) byName.delete(n);
        }
        if (byName.size === 0) lastNameAt = Date.now();
      }
      return byIP.size === 0 && byName.size === 0;
    }, `all ${COUNT} Services answer by ClusterIP and by name`, 420_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; not by ClusterIP: ${byIP.size} (${[...byIP].slice(0, 5).join(", ")}), not by name: ${byName.size} (${[...byName].slice(0, 5).join(", ")})`);
    });
    const rules = await natRules(c.nodes.find((n) => n.name === client.node)?.netns ?? "");
    const services = rules.filter((l) => l.startsWith(":KUBE-SVC-")).length;

    reportFault("service-burst-1000",
      `${COUNT} Services created in ${seconds(createdAt - started)}; last reachable by ClusterIP ${seconds(lastIPAt - started)}, by name ${seconds(lastNameAt - started)} after the burst began `
      + `(${rounds} check rounds); ${services} Service chains on ${client.node}`,
      { services: COUNT, createMs: createdAt - started, lastByClusterIPMs: lastIPAt - started, lastByNameMs: lastNameAt - started, allWorkMs: Math.max(lastIPAt, lastNameAt) - started, rounds, serviceChains: services });

    expect(byIP.size).toBe(0);
    expect(byName.size).toBe(0);
  }, 600_000);
});
