// The tutorial that started the project (../shared/seed/cluster-networking-tutorial.md), replayed
// on the local cluster with signpost applied from deploy/ exactly as an operator would: the
// DaemonSet puts signpost-proxy on every node, signpost-dns serves behind kube-dns, and real
// clients (curl, wget, nslookup, getent, the mariadb client) go through them. The manifests are
// the tutorial's own files in examples/tutorial/, the ones hack/demo.sh and hack/kind-tutorial.sh
// apply.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalCluster } from "../support/localcluster/local-cluster.ts";
import { EXTERNAL_CLIENT_IP } from "../support/localcluster/local-cluster.ts";
import { eventually } from "../support/eventually.ts";
import { type PodInfo, applyManifest, coreFor, inNetns, kubectlFor, listPods, repoRoot, startClusterWithSignpost, waitForReadyPods } from "../support/local-cluster.ts";

let c: LocalCluster;
let kubectl: ReturnType<typeof kubectlFor>;

/** Applies files of examples/tutorial/, as `kubectl apply -f` would. */
async function apply(...files: string[]): Promise<void> {
  for (const f of files) await applyManifest(c, await readFile(join(repoRoot, "examples", "tutorial", f), "utf8"));
}
const pods = (namespace: string, selector: string): Promise<PodInfo[]> => listPods(c, namespace, selector);

function readyPods(namespace: string, selector: string, count: number, what: string, timeoutMs = 90_000): Promise<PodInfo[]> {
  return waitForReadyPods(c, namespace, selector, count, what, timeoutMs);
}

/** Runs a command in a pod's network namespace, with the pod's resolv.conf: `kubectl exec`, locally. */
async function execIn(p: PodInfo, command: string, args: readonly string[]): Promise<{ stdout: string; exitCode: number }> {
  return inNetns(c.podNetns(p.node, p.uid, p.hostNetwork), command, args);
}

async function clusterIP(namespace: string, name: string): Promise<string> {
  return (await coreFor(c).readNamespacedService({ namespace, name })).spec?.clusterIP ?? "";
}

beforeAll(async () => {
  c = await startClusterWithSignpost();
  kubectl = kubectlFor(c);
}, 300_000);
afterAll(async () => {
  await c.stop();
});

describe("the tutorial, with signpost as kube-proxy and cluster DNS", () => {
  it("runs signpost from deploy/: a proxy on every node, DNS behind kube-dns", async () => {
    const proxies = await pods("kube-system", "k8s-app=signpost-proxy");
    expect(new Set(proxies.map((p) => p.node))).toEqual(new Set(["node-1", "node-2"]));
    expect(proxies.every((p) => p.hostNetwork)).toBe(true);
    const svc = await kubectl("-n", "kube-system", "get", "service", "kube-dns", "-o", "jsonpath={.spec.clusterIP}");
    expect(svc.stdout).toBe("10.96.0.10");
  });

  it("pods: two nginx pods are reachable by pod IP from another node", async () => {
    await apply("nginx-pod1.yaml", "nginx-pod2.yaml");
    for (const p of await readyPods("default", "run=nginx", 2, "nginx1 and nginx2")) {
      const other = c.nodes.find((n) => n.name !== p.node);
      await eventually(async () => (await inNetns(other?.netns ?? "", "curl", ["-s", "-m", "3", `http://${p.ip}/`])).stdout.includes("Welcome to nginx!"), `${p.name} from the other node`);
    }
    // The Deployment's replicas carry the same label run=nginx: the pods go first, as in the tutorial.
    await kubectl("delete", "pod", "nginx1", "nginx2", "--wait=true");
  });

  it("ClusterIP: a Deployment of two replicas on two nodes answers through its Service, from both replicas", async () => {
    await apply("nginx-deploy.yaml", "busybox.yaml");
    const replicas = await readyPods("default", "run=nginx", 2, "two nginx replicas");
    expect(new Set(replicas.map((r) => r.node)).size).toBe(2);
    await apply("nginx-svc.yaml");
    const ip = await clusterIP("default", "nginx-service");
    const [busybox] = await readyPods("default", "run=busybox", 1, "busybox", 60_000);
    if (busybox === undefined) throw new Error("no busybox pod");
    // From a pod, by ClusterIP, until both replicas have served (random spread, equal shares).
    // The readiness probes' requests are in the same logs: only the client's count.
    const servedClient = (log: string): boolean => log.split("\n").some((l) => l.includes("GET / HTTP/1.1") && !l.includes("kube-probe"));
    await eventually(async () => {
      await execIn(busybox, "curl", ["-s", "-m", "3", `http://${ip}/`]);
      const logs = await Promise.all(replicas.map((r) => readFile(join(c.dir, "pods", r.node, r.uid, "nginx.log"), "utf8").catch(() => "")));
      return logs.every(servedClient);
    }, "both replicas served requests through the ClusterIP", 60_000);
    // From each node itself, once its own proxy has the endpoints.
    for (const node of c.nodes) {
      await eventually(async () => (await inNetns(node.netns, "curl", ["-s", "-m", "3", `http://${ip}/`])).stdout.includes("Welcome to nginx!"), `the ClusterIP answers on ${node.name}`, 30_000);
    }
  });

  it("NodePort: the Service as the tutorial's NodePort answers the external client on every node", async () => {
    await kubectl("delete", "svc/nginx-service", "--wait=true");
    await apply("nginx-nodeport-svc.yaml");
    const nodePort = (await coreFor(c).readNamespacedService({ namespace: "default", name: "nginx-service" })).spec?.ports?.[0]?.nodePort;
    expect(nodePort).toBe(30090);
    for (const n of c.nodes) {
      await eventually(async () => (await inNetns(c.externalNetns, "curl", ["-s", "-m", "3", `http://${n.ip}:30090/`])).stdout.includes("Welcome to nginx!"), `NodePort 30090 on ${n.name} from ${EXTERNAL_CLIENT_IP}`);
    }
  });

  it("DNS: a pod's resolv.conf has the search path and ndots:5, and nginx-service resolves and answers by name", async () => {
    await kubectl("delete", "svc/nginx-service", "--wait=true");
    await apply("nginx-svc-8080.yaml");
    const [busybox] = await pods("default", "run=busybox");
    if (busybox === undefined) throw new Error("no busybox pod");
    const ip = await clusterIP("default", "nginx-service");
    const resolv = await execIn(busybox, "cat", ["/etc/resolv.conf"]);
    expect(resolv.stdout).toContain("search default.svc.cluster.local svc.cluster.local cluster.local");
    expect(resolv.stdout).toContain("options ndots:5");
    await eventually(async () => (await execIn(busybox, "nslookup", ["nginx-service"])).stdout.includes(ip), "nslookup nginx-service", 30_000);
    const getent = await execIn(busybox, "getent", ["hosts", "nginx-service.default"]);
    expect(getent.stdout).toContain(ip);
    await eventually(async () => (await execIn(busybox, "curl", ["-s", "-m", "3", "http://nginx-service:8080/"])).stdout.includes("Welcome to nginx!"), "http://nginx-service:8080/ from busybox", 30_000);
  });

  it("the two-tier app: WordPress reaches MariaDB by the name mariadb and answers the external client on NodePort 31080", async () => {
    await apply("mariadb-deploy.yaml", "mariadb-svc.yaml", "wordpress-deploy.yaml", "wordpress-svc.yaml");
    await readyPods("default", "run=mariadb", 1, "mariadb ready", 120_000);
    await readyPods("default", "run=blog", 1, "wordpress ready", 60_000);
    for (const n of c.nodes) {
      await eventually(async () => {
        const r = await inNetns(c.externalNetns, "wget", ["-q", "-T", "5", "-S", "-O", "-", `http://${n.ip}:31080/`]);
        return r.exitCode === 0 && r.stdout.includes("Just another WordPress site");
      }, `wordpress through NodePort 31080 on ${n.name}`, 60_000);
    }
  });
});
