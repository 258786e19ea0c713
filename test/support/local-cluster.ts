// What end-to-end tests share: a local cluster of network-namespace nodes, kubectl against it,
// and commands run on a node, in a pod's namespace, or from the external client.
import { execa } from "execa";
import { join } from "node:path";
import pino from "pino";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { LocalCluster } from "./localcluster/local-cluster.ts";
import { controlPlaneBinDir } from "./localcluster/binaries.ts";
import { eventually } from "./eventually.ts";

export const repoRoot = join(import.meta.dirname, "..", "..");

export interface StartOptions {
  readonly nodes?: number;
  /** The level logged when SIGNPOST_TEST_LOG is unset ("warn"). */
  readonly quietLevel?: "warn" | "error";
  readonly extraApiServerArgs?: readonly string[];
  readonly extraControllerManagerArgs?: readonly string[];
}

export async function startLocalCluster(options: StartOptions = {}): Promise<LocalCluster> {
  const log = pino({ level: process.env["SIGNPOST_TEST_LOG"] === undefined ? (options.quietLevel ?? "warn") : "info" }, pino.destination(2));
  return LocalCluster.start({
    log, repoRoot, nodes: options.nodes ?? 2,
    ...(options.extraApiServerArgs === undefined ? {} : { extraApiServerArgs: options.extraApiServerArgs }),
    ...(options.extraControllerManagerArgs === undefined ? {} : { extraControllerManagerArgs: options.extraControllerManagerArgs }),
  });
}

export function kubectlFor(c: LocalCluster): (...args: string[]) => Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const bin = join(controlPlaneBinDir(), "kubectl");
  return async (...args) => {
    const r = await execa(bin, ["--kubeconfig", c.kubeconfigPath, ...args], { reject: false });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
  };
}

export function coreFor(c: LocalCluster): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

/** Runs a command inside a network namespace (a node's, a pod's, or the external client's). */
export async function inNetns(netns: string, command: string, args: readonly string[], timeoutMs = 15_000): Promise<{ stdout: string; exitCode: number }> {
  const r = await execa("ip", ["netns", "exec", netns, command, ...args], { reject: false, timeout: timeoutMs, stdin: "ignore" });
  return { stdout: r.stdout, exitCode: r.exitCode ?? -1 };
}

/** `kubectl apply -f -` with the manifest; throws with the API server's message on failure. */
export async function applyManifest(c: LocalCluster, manifest: string): Promise<void> {
  const r = await execa(join(controlPlaneBinDir(), "kubectl"), ["--kubeconfig", c.kubeconfigPath, "apply", "-f", "-"], { input: manifest, reject: false });
  if (r.exitCode !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

export interface PodInfo {
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly uid: string;
  readonly ready: boolean;
  readonly hostNetwork: boolean;
  /** The first container's waiting reason, "" when it is not waiting. */
  readonly waitingReason: string;
}

/** Pods matching a label selector, without those already being deleted. */
export async function listPods(c: LocalCluster, namespace: string, selector: string): Promise<PodInfo[]> {
  const list = await coreFor(c).listNamespacedPod({ namespace, labelSelector: selector });
  return list.items
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) => ({
      name: p.metadata?.name ?? "",
      node: p.spec?.nodeName ?? "",
      ip: p.status?.podIP ?? "",
      uid: p.metadata?.uid ?? "",
      ready: p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false,
      hostNetwork: p.spec?.hostNetwork === true,
      waitingReason: p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? "",
    }));
}

/** Waits until at least `count` matching pods are Ready, and returns the Ready ones. */
export async function waitForReadyPods(c: LocalCluster, namespace: string, selector: string, count: number, what: string, timeoutMs = 90_000): Promise<PodInfo[]> {
  await eventually(async () => (await listPods(c, namespace, selector)).filter((p) => p.ready).length >= count, what, timeoutMs);
  return (await listPods(c, namespace, selector)).filter((p) => p.ready);
}

/**
 * A two-node local cluster with deploy/ applied: a proxy on each node, two DNS replicas, all
 * Ready; with nodeLocalDns, the node-local layout (deploy/node-local) and its replica on each node.
 */
export async function startClusterWithSignpost(options: StartOptions & { readonly readyTimeoutMs?: number; readonly nodeLocalDns?: boolean } = {}): Promise<LocalCluster> {
  const c = await startLocalCluster(options);
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  try {
    await c.applySignpost(repoRoot, options.nodeLocalDns === true ? ["deploy/node-local"] : []);
    await waitForReadyPods(c, "kube-system", "k8s-app=signpost-proxy", 2, "a signpost-proxy on each node", timeoutMs);
    await waitForReadyPods(c, "kube-system", "k8s-app=kube-dns", 2, "two signpost-dns replicas ready", timeoutMs);
    if (options.nodeLocalDns === true) await waitForReadyPods(c, "kube-system", "k8s-app=signpost-dns-node-local", 2, "a node-local signpost-dns on each node", timeoutMs);
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}

/** A namespace and, in it, a Service without a selector on port 80: a name to look up, nothing behind it. */
export function namespaceWithServiceManifest(namespace: string, service: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: ${namespace} }
---
apiVersion: v1
kind: Service
metadata: { name: ${service}, namespace: ${namespace} }
spec:
  ports: [{ port: 80 }]
`;
}

/** A busybox pod that only sleeps: the client of a test, pinned to a node when one is given. */
export function clientPodManifest(namespace: string, nodeName?: string): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${namespace}, labels: { run: client } }
spec:${nodeName === undefined ? "" : `\n  nodeName: ${nodeName}`}
  containers: [{ name: busybox, image: busybox, command: [sleep, "3600"] }]
`;
}

/**
 * Two replicas of the echo stand-in on port 8080, labelled run=echo, Ready once they answer;
 * with onePerNode, never two on one node (required pod anti-affinity).
 */
export function echoDeploymentManifest(namespace: string, options: { readonly onePerNode?: boolean } = {}): string {
  const affinity = options.onePerNode === true
    ? `
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: kubernetes.io/hostname, labelSelector: { matchLabels: { run: echo } } }]`
    : "";
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: ${namespace} }
spec:
  replicas: 2
  selector: { matchLabels: { run: echo } }
  template:
    metadata: { labels: { run: echo } }
    spec:${affinity}
      containers:
        - name: echo
          image: signpost/echo
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
`;
}
