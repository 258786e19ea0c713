// The local cluster itself, end to end: nodes of network namespaces register and stay Ready, the
// scheduler and controllers place and track real pods, the netns kubelet runs them with IPs from
// the nodes' pod CIDRs, probes them, reports them, terminates them gracefully, and the whole
// cluster tears down without a trace.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LocalCluster } from "../support/localcluster/local-cluster.ts";
import { eventually } from "../support/eventually.ts";
import { applyManifest, coreFor, inNetns, kubectlFor, listPods, startLocalCluster, type PodInfo } from "../support/local-cluster.ts";

let c: LocalCluster;
let kubectl: ReturnType<typeof kubectlFor>;
let stopped = false;

// Host paths the pods' mount points create, if the host lacked them before this cluster.
let madeByThisCluster: string[] = [];

beforeAll(async () => {
  madeByThisCluster = ["/etc/signpost-e2e", "/bitnami"].filter((p) => !existsSync(p));
  c = await startLocalCluster({ nodes: 2 });
  kubectl = kubectlFor(c);
});
afterAll(async () => {
  if (!stopped) await c.stop();
});

const apply = (manifest: string): Promise<void> => applyManifest(c, manifest);
const pods = (namespace: string, selector: string): Promise<PodInfo[]> => listPods(c, namespace, selector);

function inCIDR(ip: string, cidr: string): boolean {
  const [base] = cidr.split("/");
  return ip.split(".").slice(0, 3).join(".") === (base ?? "").split(".").slice(0, 3).join(".");
}

describe("local cluster", () => {
  it("registers every node Ready, with a pod CIDR from the controller manager", async () => {
    const nodes = await coreFor(c).listNode();
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(["node-1", "node-2"]);
    for (const n of nodes.items) {
      expect(n.status?.conditions?.find((x) => x.type === "Ready")?.status).toBe("True");
      expect(n.spec?.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
    }
  });

  it("runs a Deployment's replicas on both nodes with IPs from their CIDRs, probed Ready, listed in an EndpointSlice", async () => {
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
            - topologyKey: kubernetes.io/hostname
              labelSelector: { matchLabels: { run: nginx } }
      containers:
        - name: nginx
          image: nginx:latest
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: nginx-service, namespace: default }
spec:
  selector: { run: nginx }
  ports: [{ port: 80, targetPort: 80 }]
`);
    await eventually(async () => (await pods("default", "run=nginx")).filter((p) => p.ready).length === 2, "two ready nginx pods", 90_000);
    const running = await pods("default", "run=nginx");
    expect(new Set(running.map((p) => p.node))).toEqual(new Set(["node-1", "node-2"]));
    for (const p of running) {
      const node = c.nodes.find((n) => n.name === p.node);
      expect(node === undefined ? false : inCIDR(p.ip, node.podCIDR), `${p.ip} in ${node?.podCIDR ?? "?"}`).toBe(true);
    }
    await eventually(async () => {
      const out = await kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=nginx-service", "-o", "jsonpath={.items[*].endpoints[*].addresses[0]}");
      return out.stdout.split(" ").filter((x) => x !== "").sort().join(",") === running.map((p) => p.ip).sort().join(",");
    }, "EndpointSlice lists both pod IPs");
  });

  it("gives nodes an upstream DNS on the node network that serves a test zone and nothing else", async () => {
    const node = c.nodes[0]?.netns ?? "";
    expect((await inNetns(node, "dig", ["+short", "+time=2", "+tries=1", "www.example.test"])).stdout.trim()).toBe("172.30.0.200");
    expect((await inNetns(node, "dig", ["+time=2", "+tries=1", "missing.example.test"])).stdout).toContain("status: NXDOMAIN");
    expect((await inNetns(node, "dig", ["+time=2", "+tries=1", "kubernetes.io"])).stdout).toContain("status: REFUSED");
  });

  it("reaches each pod by its IP from the other node", async () => {
    for (const p of await pods("default", "run=nginx")) {
      const other = c.nodes.find((n) => n.name !== p.node);
      if (other === undefined) throw new Error("no other node");
      const r = await inNetns(other.netns, "curl", ["-s", "-m", "5", `http://${p.ip}/`]);
      expect(r.stdout).toContain("<title>Welcome to nginx!</title>");
    }
  });

  it("gives a pod the cluster DNS resolv.conf, its hostname, its service-account token and its ConfigMap volume", async () => {
    await apply(`
apiVersion: v1
kind: ConfigMap
metadata: { name: greeting, namespace: default }
data: { message.txt: "hello from a ConfigMap" }
---
apiVersion: v1
kind: Pod
metadata: { name: busybox, namespace: default, labels: { run: busybox } }
spec:
  containers:
    - name: busybox
      image: busybox
      command: [sh, -c, "cat /etc/resolv.conf; hostname; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; cat /etc/signpost-e2e/message.txt; echo; wc -c < /var/run/secrets/kubernetes.io/serviceaccount/token; sleep 3600"]
      volumeMounts: [{ name: greeting, mountPath: /etc/signpost-e2e }]
  volumes:
    - name: greeting
      configMap: { name: greeting }
`);
    await eventually(async () => (await pods("default", "run=busybox")).some((p) => p.ready), "busybox running", 60_000);
    const [p] = await pods("default", "run=busybox");
    if (p === undefined) throw new Error("no busybox pod");
    const log = join(c.dir, "pods", p.node, p.uid, "busybox.log");
    // Done when the token's size, the last thing the command prints, is a whole line.
    await eventually(async () => /\n\s*\d+\n$/.test(await readFile(log, "utf8").catch(() => "")), "busybox printed everything", 20_000);
    const text = await readFile(log, "utf8");
    expect(text).toContain("nameserver 10.96.0.10");
    expect(text).toContain("search default.svc.cluster.local svc.cluster.local cluster.local");
    expect(text).toContain("options ndots:5");
    expect(text).toContain("\nbusybox\n");
    expect(text).toContain("\ndefault\n");
    expect(text).toContain("hello from a ConfigMap");
    expect(Number(text.trim().split("\n").at(-1))).toBeGreaterThan(100);
  });

  it("fails a pod whose image has no mapping with ErrImagePull and a reason", async () => {
    await kubectl("run", "mystery", "--image=example.test/no-such-image:1.0", "--restart=Never");
    await eventually(async () => (await pods("default", "run=mystery"))[0]?.waitingReason === "ErrImagePull", "ErrImagePull reported", 30_000);
    const out = await kubectl("get", "pod", "mystery", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}");
    expect(out.stdout).toMatch(/no mapping in the local cluster's image table/);
  });

  it("terminates a deleted pod gracefully: its endpoint is first terminating, then gone", async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: { name: slow-stop, namespace: default, labels: { app: slow-stop } }
spec:
  terminationGracePeriodSeconds: 20
  containers:
    - name: main
      image: busybox
      command: [sh, -c, "trap 'sleep 4; exit 0' TERM; while true; do sleep 1; done"]
---
apiVersion: v1
kind: Service
metadata: { name: slow-stop, namespace: default }
spec:
  selector: { app: slow-stop }
  ports: [{ port: 80 }]
`);
    await eventually(async () => (await pods("default", "app=slow-stop")).some((p) => p.ready), "slow-stop ready", 60_000);
    const conditions = async (): Promise<string> =>
      (await kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=slow-stop", "-o", "jsonpath={.items[*].endpoints[*].conditions}")).stdout;
    await eventually(async () => (await conditions()).includes('"ready":true'), "endpoint ready");
    const deletion = kubectl("delete", "pod", "slow-stop", "--wait=false");
    await deletion;
    await eventually(async () => (await conditions()).includes('"terminating":true'), "endpoint terminating", 15_000);
    // Not listPods, which leaves out pods being deleted: the pod object itself must be gone.
    await eventually(async () => (await coreFor(c).listNamespacedPod({ namespace: "default", labelSelector: "app=slow-stop" })).items.length === 0, "pod gone after its grace", 30_000);
    await eventually(async () => (await conditions()) === "", "endpoint removed");
  });

  it("runs a hostNetwork pod in its node's namespace, with the node's IP", async () => {
    await kubectl("run", "on-host", "--image=nginx", "--restart=Never", "--overrides", JSON.stringify({ spec: { hostNetwork: true, nodeName: "node-2", containers: [{ name: "on-host", image: "nginx", ports: [{ containerPort: 8081 }] }] } }));
    await eventually(async () => (await pods("default", "run=on-host")).some((p) => p.ready), "host pod ready", 60_000);
    const [p] = await pods("default", "run=on-host");
    expect(p?.ip).toBe(c.nodes.find((n) => n.name === "node-2")?.ip);
    // Without a readiness probe the pod is Ready as soon as its process starts, maybe before it listens.
    await eventually(async () => (await inNetns(c.externalNetns, "curl", ["-s", "-m", "2", `http://${p?.ip ?? ""}:8081/`])).stdout.includes("Welcome to nginx!"), "external client reaches the host-network pod", 20_000);
  });

  it("runs the tutorial's MariaDB (Debian's real server) and a WordPress front end that queries it", async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: { name: mariadb, namespace: default, labels: { run: mariadb } }
spec:
  containers:
    - name: mariadb
      image: bitnami/mariadb:latest
      ports: [{ containerPort: 3306 }]
      env:
        - { name: MARIADB_ROOT_PASSWORD, value: bitnami123 }
        - { name: MARIADB_DATABASE, value: workpress }
        - { name: MARIADB_USER, value: bitnami }
        - { name: MARIADB_PASSWORD, value: bitnami123 }
      readinessProbe: { tcpSocket: { port: 3306 }, periodSeconds: 1 }
      volumeMounts: [{ name: mariadb-data, mountPath: /bitnami/mariadb }]
  volumes: [{ name: mariadb-data, emptyDir: {} }]
`);
    await eventually(async () => (await pods("default", "run=mariadb")).some((p) => p.ready), "mariadb ready", 120_000);
    const [db] = await pods("default", "run=mariadb");
    if (db === undefined) throw new Error("no mariadb pod");
    const other = c.nodes.find((n) => n.name !== db.node);
    if (other === undefined) throw new Error("no other node");
    // Users are created just after the port opens: retry until they exist.
    await eventually(async () => (await inNetns(other.netns, "mariadb", ["-h", db.ip, "-u", "bitnami", "-pbitnami123", "-D", "workpress", "-N", "-e", "SELECT 41+1"])).stdout.trim() === "42", "query as the tutorial's user", 30_000);
    await apply(`
apiVersion: v1
kind: Pod
metadata: { name: wordpress, namespace: default, labels: { run: blog } }
spec:
  containers:
    - name: wordpress
      image: bitnami/wordpress:latest
      ports: [{ containerPort: 80 }]
      env:
        - { name: MARIADB_HOST, value: "${db.ip}" }
        - { name: MARIADB_PORT, value: "3306" }
        - { name: WORDPRESS_DATABASE_NAME, value: workpress }
        - { name: WORDPRESS_DATABASE_USER, value: bitnami }
        - { name: WORDPRESS_DATABASE_PASSWORD, value: bitnami123 }
      readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
`);
    await eventually(async () => (await pods("default", "run=blog")).some((p) => p.ready), "wordpress ready (its probe passes only when the database answers)", 60_000);
    const [blog] = await pods("default", "run=blog");
    const page = await inNetns(c.nodes[0]?.netns ?? "", "curl", ["-s", "-m", "5", `http://${blog?.ip ?? ""}/`]);
    expect(page.stdout).toContain("Just another WordPress site");
    expect(page.stdout).toMatch(/MariaDB 10\.\d+/);
  });

  it("tears down with no namespace, process or directory left", async () => {
    const namespaces = [...c.nodes.map((n) => n.netns), c.externalNetns];
    const dir = c.dir;
    stopped = true;
    await c.stop();
    const listed = (await execa("ip", ["netns", "list"])).stdout;
    for (const ns of namespaces) expect(listed).not.toContain(ns);
    expect(listed).not.toMatch(/-p[0-9a-f]{10}/);
    expect((await execa("test", ["-e", dir], { reject: false })).exitCode).toBe(1);
    expect((await execa("pgrep", ["-f", dir], { reject: false })).stdout).toBe("");
    // The ConfigMap's mount point was made for the pod and is gone with the cluster.
    for (const path of madeByThisCluster) expect((await execa("test", ["-e", path], { reject: false })).exitCode, `${path} removed`).toBe(1);
  });
});
