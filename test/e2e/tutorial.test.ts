// The tutorial that started the project (../shared/seed/cluster-networking-tutorial.md), replayed
// on the local cluster with signpost applied from deploy/ exactly as an operator would: the
// DaemonSet puts signpost-proxy on every node, signpost-dns serves behind kube-dns, and real
// clients (curl, wget, nslookup, getent, the mariadb client) go through them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalCluster } from "../../pkg/localcluster/local-cluster.ts";
import { EXTERNAL_CLIENT_IP } from "../../pkg/localcluster/local-cluster.ts";
import { eventually } from "../support/eventually.ts";
import { type PodInfo, applyManifest, coreFor, inNetns, kubectlFor, listPods, startClusterWithSignpost, waitForReadyPods } from "../support/local-cluster.ts";

let c: LocalCluster;
let kubectl: ReturnType<typeof kubectlFor>;

const apply = (manifest: string): Promise<void> => applyManifest(c, manifest);
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
    await apply(`
apiVersion: v1
kind: Pod
metadata: { name: nginx1, namespace: default, labels: { run: nginx-pod } }
spec:
  nodeName: node-1
  containers: [{ name: nginx, image: nginx:latest, ports: [{ containerPort: 80 }] }]
---
apiVersion: v1
kind: Pod
metadata: { name: nginx2, namespace: default, labels: { run: nginx-pod } }
spec:
  nodeName: node-2
  containers: [{ name: nginx, image: nginx:latest, ports: [{ containerPort: 80 }] }]
`);
    for (const p of await readyPods("default", "run=nginx-pod", 2, "nginx1 and nginx2")) {
      const other = c.nodes.find((n) => n.name !== p.node);
      await eventually(async () => (await inNetns(other?.netns ?? "", "curl", ["-s", "-m", "3", `http://${p.ip}/`])).stdout.includes("Welcome to nginx!"), `${p.name} from the other node`);
    }
  });

  it("ClusterIP: a Deployment of two replicas on two nodes answers through its Service, from both replicas", async () => {
    await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: nginx, namespace: default, labels: { run: nginx } }
spec:
  replicas: 2
  selector: { matchLabels: { run: nginx } }
  template:
    metadata: { labels: { run: nginx } }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - { topologyKey: kubernetes.io/hostname, labelSelector: { matchLabels: { run: nginx } } }
      containers:
        - name: nginx
          image: nginx:latest
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: busybox, namespace: default, labels: { run: busybox } }
spec:
  containers: [{ name: busybox, image: busybox, command: [sleep, "3600"] }]
`);
    const replicas = await readyPods("default", "run=nginx", 2, "two nginx replicas");
    await kubectl("expose", "deploy/nginx", "--port=80", "--target-port=80", "--name=nginx-service");
    const ip = await clusterIP("default", "nginx-service");
    const [busybox] = await readyPods("default", "run=busybox", 1, "busybox", 60_000);
    if (busybox === undefined) throw new Error("no busybox pod");
    // From a pod, by ClusterIP, until both replicas have served (random spread, equal shares).
    // The readiness probes' requests are in the same logs: only the client's count.
    const servedClient = (log: string): boolean => log.split("\n").some((l) => l.includes("GET / HTTP/1.1") && !l.includes("kube-probe"));
    await eventually(async () => {
      await execIn(busybox, "wget", ["-q", "-T", "3", "-O", "-", `http://${ip}/`]);
      const logs = await Promise.all(replicas.map((r) => readFile(join(c.dir, "pods", r.node, r.uid, "nginx.log"), "utf8").catch(() => "")));
      return logs.every(servedClient);
    }, "both replicas served requests through the ClusterIP", 60_000);
    // From each node itself, once its own proxy has the endpoints.
    for (const node of c.nodes) {
      await eventually(async () => (await inNetns(node.netns, "curl", ["-s", "-m", "3", `http://${ip}/`])).stdout.includes("Welcome to nginx!"), `the ClusterIP answers on ${node.name}`, 30_000);
    }
  });

  it("NodePort: the Service as a NodePort (the tutorial's 8090) answers the external client on every node", async () => {
    await kubectl("delete", "svc/nginx-service");
    await apply(`
apiVersion: v1
kind: Service
metadata: { name: nginx-service, namespace: default, labels: { run: nginx } }
spec:
  type: NodePort
  selector: { run: nginx }
  ports: [{ port: 8000, targetPort: 80, nodePort: 8090 }]
`);
    for (const n of c.nodes) {
      await eventually(async () => (await inNetns(c.externalNetns, "curl", ["-s", "-m", "3", `http://${n.ip}:8090/`])).stdout.includes("Welcome to nginx!"), `NodePort 8090 on ${n.name} from ${EXTERNAL_CLIENT_IP}`);
    }
  });

  it("DNS: a pod's resolv.conf has the search path and ndots:5, and nslookup nginx-service answers the ClusterIP", async () => {
    const [busybox] = await pods("default", "run=busybox");
    if (busybox === undefined) throw new Error("no busybox pod");
    const ip = await clusterIP("default", "nginx-service");
    const resolv = await execIn(busybox, "cat", ["/etc/resolv.conf"]);
    expect(resolv.stdout).toContain("search default.svc.cluster.local svc.cluster.local cluster.local");
    expect(resolv.stdout).toContain("options ndots:5");
    await eventually(async () => (await execIn(busybox, "nslookup", ["nginx-service"])).stdout.includes(ip), "nslookup nginx-service", 30_000);
    const getent = await execIn(busybox, "getent", ["hosts", "nginx-service.default"]);
    expect(getent.stdout).toContain(ip);
  });

  it("the two-tier app: WordPress reaches MariaDB by the name mariadb and answers the external client on NodePort 31080", async () => {
    await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: mariadb, namespace: default, labels: { run: mariadb } }
spec:
  replicas: 1
  selector: { matchLabels: { run: mariadb } }
  template:
    metadata: { labels: { run: mariadb } }
    spec:
      containers:
        - image: bitnami/mariadb:latest
          name: mariadb
          ports: [{ containerPort: 3306, protocol: TCP }]
          env:
            - { name: MARIADB_ROOT_PASSWORD, value: bitnami123 }
            - { name: MARIADB_DATABASE, value: workpress }
            - { name: MARIADB_USER, value: bitnami }
            - { name: MARIADB_PASSWORD, value: bitnami123 }
          readinessProbe: { tcpSocket: { port: 3306 }, periodSeconds: 1 }
          volumeMounts: [{ name: mariadb-data, mountPath: /bitnami/mariadb }]
      volumes: [{ name: mariadb-data, emptyDir: {} }]
---
apiVersion: v1
kind: Service
metadata: { name: mariadb, namespace: default, labels: { run: mariadb } }
spec:
  ports: [{ protocol: TCP, port: 3306, targetPort: 3306 }]
  selector: { run: mariadb }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: wordpress, namespace: default, labels: { run: blog } }
spec:
  replicas: 1
  selector: { matchLabels: { run: blog } }
  template:
    metadata: { labels: { run: blog } }
    spec:
      containers:
        - image: bitnami/wordpress:latest
          name: wordpress
          ports: [{ containerPort: 80, protocol: TCP }, { containerPort: 443, protocol: TCP }]
          env:
            - { name: MARIADB_HOST, value: mariadb }
            - { name: MARIADB_PORT, value: "3306" }
            - { name: WORDPRESS_DATABASE_NAME, value: workpress }
            - { name: WORDPRESS_DATABASE_USER, value: bitnami }
            - { name: WORDPRESS_DATABASE_PASSWORD, value: bitnami123 }
            - { name: WORDPRESS_USERNAME, value: admin }
            - { name: WORDPRESS_PASSWORD, value: password }
---
apiVersion: v1
kind: Service
metadata: { name: wordpress, namespace: default, labels: { run: blog } }
spec:
  type: NodePort
  selector: { run: blog }
  ports: [{ protocol: TCP, port: 80, targetPort: 80, nodePort: 31080 }]
`);
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
