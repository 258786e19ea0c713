// The handover an operator makes on a running node: the real kube-proxy (v1.36.3, built by
// hack/build-control-plane.sh --with-kube-proxy) serves a Service from the node's network
// namespace, then signpost-proxy takes over with the same KubeProxyConfiguration file, then
// kube-proxy takes the node back, directly and after `signpost-proxy --cleanup`. Throughout, a
// client opens a new TCP connection every 100 ms, sends UDP datagrams on one flow, and holds one
// TCP connection open; every answer must name a backend. A kube-proxy-to-kube-proxy restart is
// the reference. Counts go to the [fault] report line.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { load, dump } from "js-yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controlPlaneBinDir, requireBinary } from "../support/localcluster/binaries.ts";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { CountingClient, countsJson, describeCounts, reportFault, type Attempt } from "../support/fault-traffic.ts";
import { link, type NetNs } from "../support/netns.ts";
import { ProxyDaemon, runProxyCommand } from "../support/proxy-daemon.ts";
import { clusterIPOf, createNode, putSlice, serviceSpec, sliceSpec } from "../support/proxy-objects.ts";
import { backends, clusterCIDR, nodeIP, ProxyTopology, type LongClient, type Pod } from "../support/proxy-topology.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-hand-${randomBytes(3).toString("hex")}`;
const kubeProxyBinary = requireBinary(controlPlaneBinDir(), "kube-proxy");
/** The harness's end of its link to the node, where the API server is forwarded for kube-proxy. */
const harnessLinkIP = "172.30.77.1";
const nodeLinkIP = "172.30.77.2";

let ns = "";
let dir = "";
let config = "";
let topo: ProxyTopology;
let a: Pod;
let b: Pod;
let client: Pod;
let tcpIP = "";
let udpIP = "";
let apiForward: Server;
let kubeProxy: KubeProxy | null = null;
let signpost: ProxyDaemon | null = null;

/** kube-proxy as a DaemonSet pod runs it: in the node's network namespace, with --config only. */
class KubeProxy {
  readonly node: NetNs;
  readonly #p: ResultPromise;
  #output = "";

  constructor(node: NetNs) {
    this.node = node;
    this.#p = execa("ip", ["netns", "exec", node.name, kubeProxyBinary, `--config=${config}`, "--v=1"], { reject: false, stdin: "ignore", all: true, forceKillAfterDelay: 60_000 });
    this.#p.all?.on("data", (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-20_000);
    });
  }

  /** Until kube-proxy's metrics show a sync of the rules made after it started. */
  async synced(): Promise<void> {
    try {
      await eventually(async () => {
        const metrics = await this.node.run("curl", ["-s", "--max-time", "2", "http://127.0.0.1:10249/metrics"]).catch(() => "");
        return /^kubeproxy_sync_proxy_rules_last_timestamp_seconds(\{[^}]*\})? [1-9]/m.test(metrics);
      }, "kube-proxy synced its rules", 90_000);
    } catch (err) {
      throw new Error(`${String(err)}; kube-proxy's output ends:\n${this.#output.slice(-3000)}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    this.#p.kill("SIGTERM");
    await this.#p;
  }
}

/** The API server, forwarded from the harness's end of the link to its loopback, for kube-proxy in the node. */
async function forwardApiServer(): Promise<{ server: Server; kubeconfigFile: string }> {
  const doc = load(readFileSync(kubeconfig, "utf8")) as { clusters: { cluster: Record<string, unknown> }[] };
  const cluster = doc.clusters[0]?.cluster;
  if (cluster === undefined) throw new Error(`no cluster in ${kubeconfig}`);
  const url = new URL(String(cluster["server"]));
  const server = createServer((conn) => {
    const upstream = createConnection({ host: url.hostname, port: Number(url.port) });
    conn.pipe(upstream).pipe(conn);
    conn.on("error", () => upstream.destroy());
    upstream.on("error", () => conn.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ host: harnessLinkIP, port: Number(url.port) }, resolve));
  // The certificate names the loopback address: verify it under that name.
  cluster["server"] = `https://${harnessLinkIP}:${url.port}`;
  cluster["tls-server-name"] = url.hostname;
  const kubeconfigFile = join(dir, "kube-proxy.kubeconfig");
  await writeFile(kubeconfigFile, dump(doc));
  return { server, kubeconfigFile };
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "proxy-handover");
  await createNode(c.core, nodeName, nodeIP);
  dir = await mkdtemp(join(tmpdir(), "signpost-handover-"));
  topo = await ProxyTopology.create("pxh");
  await link(topo.node, `${nodeLinkIP}/30`, null, `${harnessLinkIP}/30`);
  const forward = await forwardApiServer();
  apiForward = forward.server;
  // kube-proxy's ConfigMap, reused as is by signpost-proxy. The conntrack sizes are zero: outside
  // the host's namespace nf_conntrack_max is read-only, and kube-proxy would refuse to start.
  config = join(dir, "config.conf");
  await writeFile(
    config,
    [
      "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
      "kind: KubeProxyConfiguration",
      "clientConnection:",
      `  kubeconfig: ${forward.kubeconfigFile}`,
      `hostnameOverride: ${nodeName}`,
      "mode: iptables",
      `clusterCIDR: ${clusterCIDR}`,
      "metricsBindAddress: 127.0.0.1:10249",
      "healthzBindAddress: 0.0.0.0:10256",
      "iptables:",
      "  minSyncPeriod: 1s",
      "  syncPeriod: 30s",
      "conntrack:",
      "  maxPerCore: 0",
      "  min: 0",
      "  tcpEstablishedTimeout: 0s",
      "  tcpCloseWaitTimeout: 0s",
      "",
    ].join("\n"),
  );
  a = await topo.addPod("pxh-a", 1);
  b = await topo.addPod("pxh-b", 2);
  client = await topo.addPod("pxh-client", 3);
  await topo.serve(a, 8080);
  await topo.serve(b, 8080);
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "web", [{ name: "http", port: 80 }]) });
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "dns", [{ name: "dns", port: 53, protocol: "UDP" }]) });
  tcpIP = await clusterIPOf(c.core, ns, "web");
  udpIP = await clusterIPOf(c.core, ns, "dns");
  const endpoints = [a, b].map((p) => ({ ip: p.ip, nodeName }));
  await putSlice(c.discovery, sliceSpec(ns, "web", [{ name: "http", port: 8080 }], endpoints));
  await putSlice(c.discovery, sliceSpec(ns, "dns", [{ name: "dns", port: 8080, protocol: "UDP" }], endpoints));
});

afterAll(async () => {
  await kubeProxy?.stop();
  await signpost?.stop();
  apiForward?.close();
  await topo?.destroy();
  await rm(dir, { recursive: true, force: true });
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

async function startSignpost(): Promise<ProxyDaemon> {
  const d = await ProxyDaemon.start({ kubeconfig, nodeName, netns: topo.node.name, extraArgs: ["--config", config] });
  await d.waitForLog((l) => l["msg"] === "rules synced", "signpost-proxy's first sync");
  return d;
}

async function startKubeProxy(): Promise<KubeProxy> {
  const k = new KubeProxy(topo.node);
  await k.synced();
  return k;
}

/** One attempt: an answer that names a backend, else what came back. */
function answeredBy(proto: "tcp" | "udp", ip: string, port: number, localPort?: number): Attempt {
  return async () => {
    const outcomes = await topo.probe(client.ns, proto, ip, port, { timeoutMs: 3000, ...(localPort === undefined ? {} : { localPort }) });
    return backends(outcomes).length === 1 ? null : JSON.stringify(outcomes);
  };
}

describe("handing a node over between kube-proxy and signpost-proxy", () => {
  it("loses no request when signpost-proxy takes over from kube-proxy and gives the node back", async () => {
    kubeProxy = await startKubeProxy();
    await eventually(async () => (await answeredBy("tcp", tcpIP, 80)()) === null, "kube-proxy serves the TCP Service");
    await eventually(async () => (await answeredBy("udp", udpIP, 53)()) === null, "kube-proxy serves the UDP Service");
    const long: LongClient = topo.longClient(client.ns, tcpIP, 80);
    // The echo server answers a line with its name and the client's address.
    const backendOf = (line: string): string => line.split(" ")[0] ?? "";
    const longBackend = backendOf(await long.send("hello"));
    expect(["pxh-a", "pxh-b"]).toContain(longBackend);
    const tcp = new CountingClient(`new TCP connections to ${tcpIP}:80`, answeredBy("tcp", tcpIP, 80), 600_000, 100);
    const udp = new CountingClient(`UDP datagrams to ${udpIP}:53 from port 42053`, answeredBy("udp", udpIP, 53, 42053), 600_000, 100);
    const phase = async (name: string, change: () => Promise<void>): Promise<void> => {
      tcp.phase = name;
      udp.phase = name;
      await change();
      // Traffic after the change, under the new owner of the rules.
      await Promise.all([tcp.more(20), udp.more(20)]);
      expect(backendOf(await long.send(name)), `the long-lived connection after "${name}"`).toBe(longBackend);
    };
    try {
      await Promise.all([tcp.more(10), udp.more(10)]);
      await phase("kube-proxy restarted (reference)", async () => {
        await kubeProxy?.stop();
        kubeProxy = await startKubeProxy();
      });
      await phase("kube-proxy -> signpost-proxy", async () => {
        await kubeProxy?.stop();
        kubeProxy = null;
        signpost = await startSignpost();
      });
      await phase("signpost-proxy -> kube-proxy", async () => {
        await signpost?.stop();
        signpost = null;
        kubeProxy = await startKubeProxy();
      });
      await phase("kube-proxy -> signpost-proxy, again", async () => {
        await kubeProxy?.stop();
        kubeProxy = null;
        signpost = await startSignpost();
      });
      await phase("signpost-proxy --cleanup -> kube-proxy", async () => {
        await signpost?.stop();
        signpost = null;
        const cleanup = await runProxyCommand(["--cleanup", "--iptables-netns", topo.node.name]);
        expect(cleanup.exitCode, cleanup.stderr).toBe(0);
        kubeProxy = await startKubeProxy();
      });
    } finally {
      long.close();
      await Promise.all([tcp.stop(), udp.stop()]);
    }
    reportFault("proxy handover", `${describeCounts(tcp.counts)}; ${describeCounts(udp.counts)}`, { tcp: countsJson(tcp.counts), udp: countsJson(udp.counts) });
    // The rules stay in place while one proxy stops and the other starts, and each replaces the
    // other's atomically: no handover without --cleanup may lose a request.
    for (const p of ["kube-proxy -> signpost-proxy", "signpost-proxy -> kube-proxy", "kube-proxy -> signpost-proxy, again"]) {
      expect(tcp.counts.byPhase.get(p)?.failed, describeCounts(tcp.counts, p)).toBe(0);
      expect(udp.counts.byPhase.get(p)?.failed, describeCounts(udp.counts, p)).toBe(0);
    }
    // kube-proxy serves the node again after --cleanup.
    const nat = await topo.node.run("iptables-save", ["-t", "nat"]);
    expect(nat).toContain(`-d ${tcpIP}/32`);
  });
});
