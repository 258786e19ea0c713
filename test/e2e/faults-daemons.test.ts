// The fault suite, daemon faults: on the local cluster with signpost applied from
// deploy/, each fault happens while clients in a pod keep sending, and each reports what it sent,
// what failed and when it recovered ([fault] lines on stderr, $TMPDIR/fault-counts.jsonl).
//  - signpost-proxy SIGKILLed: no new connection fails while it is down or restarting, and an
//    established connection survives (rules stay in the kernel);
//  - SIGTERM to the proxy: it exits 0 and leaves its rules exactly as they were;
//  - SIGTERM to a DNS replica: /health 200 and /ready 503 for the lameduck, answering, then exit 0;
//  - the nat table flushed by hand: the canary notices and the rules come back (times reported);
//  - an endpoint of a UDP Service deleted under a client that keeps its source port: its next
//    datagrams reach a live endpoint, no stale conntrack entry blackholes them.
// One DNS replica killed outright (0 failed queries from a retrying client) is proven on the same
// cluster by test/e2e/beyond-tutorial.test.ts, "one DNS replica killed: ...", and not repeated.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { DiscoveryV1Api, KubeConfig } from "@kubernetes/client-node";
import type { LocalCluster, LocalNode } from "../support/localcluster/local-cluster.ts";
import { CLUSTER_DNS_IP } from "../support/localcluster/local-cluster.ts";
import type { SupervisedProcess } from "../support/localcluster/supervised-process.ts";
import { eventually } from "../support/eventually.ts";
import { type PodInfo, applyManifest, coreFor, inNetns, kubectlFor, listPods, startClusterWithSignpost, waitForReadyPods, clientPodManifest, echoDeploymentManifest } from "../support/local-cluster.ts";
import {
  CountingClient, NetnsScript, countsJson, describeCounts, digAttempt, duplicates, httpAttempt, httpStatus, metricValue, natRules, proxyMetricsText,
  recoveredAfterMs, reportFault, ruleDiff,
} from "../support/fault-traffic.ts";

const NS = "faults";

let c: LocalCluster;
let client: PodInfo;
let node: LocalNode;
let echoIP = "";
const echoName = `echo.${NS}.svc.cluster.local`;

const netnsOf = (p: PodInfo): string => c.podNetns(p.node, p.uid, p.hostNetwork);
const seconds = (ms: number | null): string => (ms === null ? "n/a" : `${(ms / 1000).toFixed(1)} s`);

async function clusterIP(name: string): Promise<string> {
  return (await coreFor(c).readNamespacedService({ namespace: NS, name })).spec?.clusterIP ?? "";
}

/** The process of a pod's container on its node, once the kubelet runs one that is not `not`. */
async function containerProcess(pod: PodInfo, container: string, not: SupervisedProcess | null = null, timeoutMs = 90_000): Promise<SupervisedProcess> {
  const kubelet = c.nodes.find((n) => n.name === pod.node)?.kubelet;
  if (kubelet === undefined) throw new Error(`no node ${pod.node}`);
  let found: SupervisedProcess | null = null;
  await eventually(() => {
    found = kubelet.containerProcess("kube-system", pod.name, container);
    return found !== null && found !== not && found.running;
  }, `a running ${container} process in ${pod.name}`, timeoutMs);
  if (found === null) throw new Error(`no ${container} process in ${pod.name}`);
  return found;
}

async function proxyPodOn(nodeName: string): Promise<PodInfo> {
  const p = (await listPods(c, "kube-system", "k8s-app=signpost-proxy")).find((x) => x.node === nodeName);
  if (p === undefined) throw new Error(`no signpost-proxy on ${nodeName}`);
  return p;
}

/** The conditions of an endpoint in a Service's EndpointSlices ("absent" when it is not listed). */
async function endpointConditions(namespace: string, service: string, ip: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  const e = slices.items.flatMap((x) => x.endpoints ?? []).find((x) => x.addresses.includes(ip));
  return e === undefined ? "absent" : `ready=${String(e.conditions?.ready)} serving=${String(e.conditions?.serving)} terminating=${String(e.conditions?.terminating)}`;
}

const proxyMetrics = (): Promise<string> => proxyMetricsText(node.netns);

/** Waits until the proxy on the client's node has synced its rules after `sinceMs`. */
async function proxySyncedSince(sinceMs: number, what: string): Promise<void> {
  await eventually(async () => metricValue(await proxyMetrics(), "kubeproxy_sync_proxy_rules_last_timestamp_seconds") * 1000 > sinceMs, what, 120_000);
}

beforeAll(async () => {
  c = await startClusterWithSignpost();
  await applyManifest(c, `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
${clientPodManifest(NS, "node-1")}---
${echoDeploymentManifest(NS)}---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${NS} }
spec:
  selector: { run: echo }
  ports: [{ port: 80, targetPort: 8080 }]
`);
  const [p] = await waitForReadyPods(c, NS, "run=client", 1, "the client pod", 90_000);
  if (p === undefined) throw new Error("no client pod");
  client = p;
  const n = c.nodes.find((x) => x.name === client.node);
  if (n === undefined) throw new Error(`no node ${client.node}`);
  node = n;
  await waitForReadyPods(c, NS, "run=echo", 2, "two echo replicas", 120_000);
  echoIP = await clusterIP("echo");
  await eventually(async () => (await httpAttempt(netnsOf(client), `http://${echoIP}/`)()) === null, "the echo Service answers the client", 60_000);
  await eventually(async () => (await digAttempt(netnsOf(client), CLUSTER_DNS_IP, echoName, echoIP)()) === null, `${echoName} resolves from the client`, 60_000);
}, 420_000);

afterAll(async () => {
  await c?.stop();
});

describe("fault suite: the daemons", () => {
  it("signpost-proxy SIGKILLed under steady connections: no new connection fails while it is down or restarting, an established one survives", async () => {
    const proxy = await proxyPodOn(node.name);
    const proc = await containerProcess(proxy, "signpost-proxy");
    const url = `http://${echoIP}/`;
    const long = new NetnsScript(netnsOf(client), "fault-long-http-client.ts", [echoIP, "80", "300"]);
    const replies = (): string[] => long.lines.filter((l) => l.startsWith("reply "));
    try {
      await eventually(() => replies().length >= 3, "the established connection is answered", 30_000);
      const backend = replies()[0]?.slice("reply ".length) ?? "";
      const run = new CountingClient(`new connections to ${url}`, httpAttempt(netnsOf(client), url), 240_000);
      await run.more(10);

      run.phase = "down";
      const killedAt = Date.now();
      const repliesAtKill = replies().length;
      proc.signal("SIGKILL");
      expect(await proc.exited, "killed by a signal").toBeNull();
      await containerProcess(proxy, "signpost-proxy", proc);
      const restartedAt = Date.now();
      run.phase = "restarting";
      await proxySyncedSince(killedAt, "the restarted proxy has synced its rules");
      const syncedAt = Date.now();
      run.phase = "after";
      await run.more(20);
      const counts = await run.stop();
      await eventually(() => replies().length >= repliesAtKill + 5, "the established connection is still answered after the restart", 30_000);
      const ended = long.lines.filter((l) => l.startsWith("error") || l === "closed");
      const sameBackend = replies().every((l) => l === `reply ${backend}`);
      const survived = ended.length === 0 && sameBackend;

      reportFault("proxy-sigkill",
        `new connections sent=${counts.sent} failed=${counts.failed} (down ${run.sentIn("down")}, restarting ${run.sentIn("restarting")}); `
        + `established connection ${survived ? "survived" : "BROKE"} (${replies().length - repliesAtKill} replies after the kill, backend ${backend}); `
        + `down ${seconds(restartedAt - killedAt)}, first sync ${seconds(syncedAt - killedAt)} after the kill`,
        { newConnections: countsJson(counts), established: { repliesBeforeKill: repliesAtKill, repliesAfterKill: replies().length - repliesAtKill, survived, ended }, downMs: restartedAt - killedAt, firstSyncAfterMs: syncedAt - killedAt });

      expect(run.sentIn("down") + run.sentIn("restarting"), "new connections while the proxy was down or restarting").toBeGreaterThan(0);
      expect(counts.failed, describeCounts(counts)).toBe(0);
      expect(ended, "the established connection did not end").toEqual([]);
      expect(sameBackend, "every reply on the established connection came from its backend").toBe(true);
    } finally {
      await long.stop();
    }
  }, 300_000);

  it("SIGTERM to signpost-proxy: it exits 0 and leaves its rules in place, and connections keep working", async () => {
    const proxy = await proxyPodOn(node.name);
    const proc = await containerProcess(proxy, "signpost-proxy");
    await proxySyncedSince(0, "the proxy has synced");
    const before = await natRules(node.netns);
    const url = `http://${echoIP}/`;
    const run = new CountingClient(`new connections to ${url}`, httpAttempt(netnsOf(client), url), 240_000);
    await run.more(10);
    run.phase = "stopping";
    const termAt = Date.now();
    proc.signal("SIGTERM");
    const code = await proc.exited;
    const exitedAt = Date.now();
    // The kubelet restarts it after a back-off of a second or more: take the table before that.
    const left = await natRules(node.netns);
    const restartedBeforeSnapshot = c.nodes.find((n) => n.name === proxy.node)?.kubelet.containerProcess("kube-system", proxy.name, "signpost-proxy") !== proc;
    run.phase = "exited";
    await containerProcess(proxy, "signpost-proxy", proc);
    run.phase = "restarting";
    await proxySyncedSince(exitedAt, "the restarted proxy has synced its rules");
    run.phase = "after";
    await run.more(20);
    const counts = await run.stop();
    const diff = ruleDiff(before, left);
    const kept = diff.lost.length === 0 && diff.added.length === 0;

    reportFault("proxy-sigterm",
      `exit code ${String(code)} after ${seconds(exitedAt - termAt)}; nat rules left in place: ${kept ? `all ${before.length}` : `${diff.lost.length} lost, ${diff.added.length} added`}; `
      + `connections sent=${counts.sent} failed=${counts.failed}`,
      { exitCode: code, stopMs: exitedAt - termAt, natRules: before.length, lost: diff.lost, added: diff.added, connections: countsJson(counts) });

    expect(code, "a clean exit").toBe(0);
    expect(restartedBeforeSnapshot, "the rules were read before the kubelet restarted the proxy").toBe(false);
    expect(before.filter((l) => l.includes("KUBE-SERVICES")).length, "rules were there to keep").toBeGreaterThan(0);
    expect(diff, "the nat table after the proxy exited is the one it had programmed").toEqual({ lost: [], added: [] });
    expect(counts.failed, describeCounts(counts)).toBe(0);
  }, 300_000);

  it("SIGTERM to a signpost-dns replica: it drains in lameduck (/health 200, /ready 503, still answering) and exits 0", async () => {
    const [victim] = await waitForReadyPods(c, "kube-system", "k8s-app=kube-dns", 2, "two DNS replicas", 120_000);
    if (victim === undefined) throw new Error("no DNS replica");
    const proc = await containerProcess(victim, "signpost-dns");
    const viaService = new CountingClient(`dig ${echoName} via ${CLUSTER_DNS_IP} (+tries=3 +time=1)`, digAttempt(netnsOf(client), CLUSTER_DNS_IP, echoName, echoIP), 240_000);
    await viaService.more(10);

    interface Sample { readonly at: number; readonly health: number; readonly ready: number; readonly answered: boolean }
    const samples: Sample[] = [];
    viaService.phase = "lameduck";
    const termAt = Date.now();
    proc.signal("SIGTERM");
    let exitedAt = 0;
    const exited = proc.exited.then((code) => {
      exitedAt = Date.now();
      viaService.phase = "after exit";
      return code;
    });
    while (exitedAt === 0 && Date.now() - termAt < 60_000) {
      const at = Date.now();
      const [health, ready, dig] = await Promise.all([
        httpStatus(`http://${victim.ip}:8080/health`),
        httpStatus(`http://${victim.ip}:8181/ready`),
        execa("dig", ["+tries=1", "+time=1", "+short", `@${victim.ip}`, echoName, "A"], { reject: false, timeout: 5000 }),
      ]);
      samples.push({ at, health, ready, answered: dig.exitCode === 0 && dig.stdout.trim() === echoIP });
      await sleep(100);
    }
    const code = await exited;
    // Whether the replica was still an endpoint of kube-dns when it exited (its readiness probe,
    // every second with 3 failures to go unready, should have taken it out within the 5 s lameduck).
    const atExit = await endpointConditions("kube-system", "kube-dns", victim.ip);
    await containerProcess(victim, "signpost-dns", proc);
    await eventually(async () => (await listPods(c, "kube-system", "k8s-app=kube-dns")).filter((p) => p.ready).length >= 2, "the restarted replica is Ready again", 120_000);
    viaService.phase = "after";
    await viaService.more(20);
    const counts = await viaService.stop();

    // A probe that began within 2.5 s of the exit may have raced it: judge the ones before.
    const judged = samples.filter((s) => s.at < exitedAt - 2500);
    const draining = judged.filter((s) => s.ready !== 200);
    const firstDraining = samples.findIndex((s) => s.ready !== 200);
    const afterFirst = firstDraining < 0 ? [] : judged.slice(firstDraining);
    const bad = afterFirst.filter((s) => s.health !== 200 || s.ready !== 503 || !s.answered);
    reportFault("dns-sigterm",
      `exit code ${String(code)} after ${seconds(exitedAt - termAt)} of lameduck; probes while draining: ${afterFirst.length} (/health 200, /ready 503 and answered: ${afterFirst.length - bad.length}); `
      + `dns queries via the Service sent=${counts.sent} failed=${counts.failed}; the replica in kube-dns at its exit: ${atExit}`,
      { exitCode: code, lameduckMs: exitedAt - termAt, probes: samples.length, judged: afterFirst.length, bad, viaService: countsJson(counts), endpointAtExit: atExit });

    // Queries through the Service are counted and reported, not asserted: a SIGTERM that does not
    // come from a pod deletion leaves the replica an endpoint until its readiness probe fails
    // (3 probes 1 s apart, inside the 5 s lameduck but with little to spare on a loaded machine), so whether a query meets the
    // closed socket in the moment between the lameduck's end and the endpoint's removal is a race.
    expect(code, "a clean exit after the lameduck").toBe(0);
    expect(draining.length, "probes seen while the replica drained").toBeGreaterThan(0);
    expect(bad, "while draining: /health 200, /ready 503, queries answered").toEqual([]);
  }, 300_000);

  it("the nat table flushed by hand: the canary notices and the rules come back", async () => {
    await proxySyncedSince(0, "the proxy has synced");
    const before = await natRules(node.netns);
    const canary0 = metricValue(await proxyMetrics(), "signpost_proxy_canary_missing_total");
    const url = `http://${echoIP}/`;
    // Each connection may take 10 s, as a client's connect timeout would (curl's own is minutes): a
    // SYN that a loaded machine delays is retransmitted and the connection counts, while one to a
    // Service without rules still fails (CI once saw one 3 s attempt fail after the rules came
    // back, with no sign of why).
    const http = new CountingClient(`new connections to ${url}`, httpAttempt(netnsOf(client), url, 10), 240_000);
    const dns = new CountingClient(`dig ${echoName} via ${CLUSTER_DNS_IP}`, digAttempt(netnsOf(client), CLUSTER_DNS_IP, echoName, echoIP), 240_000);
    await Promise.all([http.more(10), dns.more(5)]);
    http.phase = dns.phase = "flushed";
    const flushedAt = Date.now();
    const f = await inNetns(node.netns, "iptables", ["-w", "5", "-t", "nat", "-F"]);
    expect(f.exitCode).toBe(0);
    await eventually(async () => metricValue(await proxyMetrics(), "signpost_proxy_canary_missing_total") > canary0, "the canary notices the flush", 120_000);
    const noticedAt = Date.now();
    let after: string[] = [];
    await eventually(async () => {
      after = await natRules(node.netns);
      return ruleDiff(before, after).lost.length === 0;
    }, "the rules are back", 60_000);
    const restoredAt = Date.now();
    // Attempts already waiting on a dropped SYN when the rules returned, or started while the
    // loaded machine was still settling, are counted apart; from then on nothing may fail.
    http.phase = dns.phase = "settling";
    await new Promise((resolve) => setTimeout(resolve, 3000));
    http.phase = dns.phase = "after";
    await Promise.all([http.more(20), dns.more(10)]);
    const [h, d] = await Promise.all([http.stop(), dns.stop()]);
    const diff = ruleDiff(before, after);

    reportFault("nat-flush",
      `canary noticed after ${seconds(noticedAt - flushedAt)}, rules back after ${seconds(restoredAt - flushedAt)} (sync period 30 s); `
      + `connections sent=${h.sent} failed=${h.failed} recovered after ${seconds(recoveredAfterMs(h))}; dns queries sent=${d.sent} failed=${d.failed} recovered after ${seconds(recoveredAfterMs(d))}`,
      { canaryNoticedMs: noticedAt - flushedAt, rulesBackMs: restoredAt - flushedAt, syncPeriodMs: 30_000, connections: countsJson(h), dns: countsJson(d), lost: diff.lost, added: diff.added });

    expect(diff, "the same rules as before the flush").toEqual({ lost: [], added: [] });
    expect(duplicates(after), "no rule twice").toEqual([]);
    expect(h.byPhase.get("after")?.failed ?? -1, describeCounts(h, "after")).toBe(0);
    expect(d.byPhase.get("after")?.failed ?? -1, describeCounts(d, "after")).toBe(0);
  }, 300_000);

  it("an endpoint of a UDP Service deleted while a client sends to it: the next datagrams reach a live endpoint", async () => {
    await applyManifest(c, `
apiVersion: apps/v1
kind: Deployment
metadata: { name: udp-echo, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { run: udp-echo } }
  template:
    metadata: { labels: { run: udp-echo } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: udp
          image: busybox
          command: [python3, -c, "import socket\\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\\ns.bind(('0.0.0.0', 5353))\\nh = socket.gethostname().encode()\\nwhile True:\\n    d, a = s.recvfrom(2048)\\n    s.sendto(h + b' ' + d, a)\\n"]
          ports: [{ containerPort: 5353, protocol: UDP }]
---
apiVersion: v1
kind: Service
metadata: { name: udp-echo, namespace: ${NS} }
spec:
  selector: { run: udp-echo }
  ports: [{ port: 5353, targetPort: 5353, protocol: UDP }]
`);
    const replicas = await waitForReadyPods(c, NS, "run=udp-echo", 2, "two UDP echo replicas", 120_000);
    const ip = await clusterIP("udp-echo");
    const udp = new NetnsScript(netnsOf(client), "fault-udp-client.ts", [ip, "5353", "100", "1000"]);
    try {
      const oks = (): string[] => udp.lines.filter((l) => l.startsWith("ok "));
      const hostOf = (l: string): string => l.split(" ")[2] ?? "";
      await eventually(() => oks().length >= 10, "the UDP Service answers the client", 60_000);
      // Datagrams sent before the Service was programmed are no part of the fault: count from here.
      const seqWarm = Math.max(...oks().map((l) => Number(l.split(" ")[1])));
      const serving = hostOf(oks().at(-1) ?? "");
      const victim = replicas.find((p) => p.name === serving);
      if (victim === undefined) throw new Error(`the answering replica ${serving} is not one of ${replicas.map((p) => p.name).join(", ")}`);
      const mark = udp.lines.length;
      const deletedAt = Date.now();
      const del = await kubectlFor(c)("-n", NS, "delete", "pod", victim.name, "--wait=false");
      expect(del.exitCode, del.stderr).toBe(0);
      let liveAt = 0;
      await eventually(() => {
        const ok = udp.lines.slice(mark).find((l) => l.startsWith("ok ") && hostOf(l) !== serving);
        if (ok !== undefined && liveAt === 0) liveAt = Date.now();
        return ok !== undefined;
      }, "a datagram from the same source port is answered by a live endpoint", 90_000);
      await eventually(() => udp.lines.slice(mark).filter((l) => l.startsWith("ok ") && hostOf(l) !== serving).length >= 30, "datagrams keep being answered", 60_000);
      // Let the last datagrams be answered or declared lost (1 s), then judge by sequence number.
      await sleep(1500);
      const events = udp.lines.filter((l) => l.startsWith("ok ") || l.startsWith("lost ")).map((l) => ({ ok: l.startsWith("ok "), seq: Number(l.split(" ")[1]), host: hostOf(l) })).filter((e) => e.seq > seqWarm);
      const seqAtDelete = Math.max(-1, ...udp.lines.slice(0, mark).filter((l) => l.startsWith("ok ") || l.startsWith("lost ")).map((l) => Number(l.split(" ")[1])));
      const firstLive = Math.min(...events.filter((e) => e.ok && e.host !== serving).map((e) => e.seq));
      const lastSeq = Math.max(...events.map((e) => e.seq));
      const tail = events.filter((e) => e.seq > lastSeq - 20);
      const lostBefore = events.filter((e) => !e.ok && e.seq <= seqAtDelete).length;
      const lostAfter = events.filter((e) => !e.ok && e.seq > seqAtDelete).length;
      const lostAfterLive = events.filter((e) => !e.ok && e.seq > firstLive).length;
      const toVictimAfter = events.filter((e) => e.ok && e.host === serving && e.seq > seqAtDelete).length;

      reportFault("udp-endpoint-deleted",
        `datagrams sent=${events.length} failed=${lostBefore + lostAfter} (before the delete ${lostBefore}, after ${lostAfter}, after a live endpoint answered ${lostAfterLive}); `
        + `answered by a live endpoint ${seconds(liveAt - deletedAt)} after the delete (${toVictimAfter} answers from the deleted one after the delete); no blackhole`,
        { sent: events.length, lost: lostBefore + lostAfter, lostBeforeDelete: lostBefore, lostAfterDelete: lostAfter, lostAfterLiveAnswer: lostAfterLive, recoveredAfterMs: liveAt - deletedAt, answersFromDeletedEndpoint: toVictimAfter, sourcePort: udp.lines.find((l) => l.startsWith("port ")) ?? "" });

      expect(tail.filter((e) => !e.ok), "the last 20 datagrams were all answered").toEqual([]);
      expect(tail.every((e) => e.host !== serving), "none of the last 20 answered by the deleted endpoint").toBe(true);
    } finally {
      await udp.stop();
    }
  }, 300_000);
});
