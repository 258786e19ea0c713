// A pod's sandbox: its network namespace wired to the node (or the node's own namespace for
// hostNetwork), and the files a container expects at fixed paths: resolv.conf, hosts, and the
// service-account token where in-cluster config looks for it.
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attachPod, createNetns, deleteNetns, writeNetnsEtc } from "../node-network.ts";
import { podResolvConf, type ClusterDnsSettings } from "./dns-config.ts";
import type { Mount } from "./pod-volumes.ts";

export interface SandboxDeps {
  readonly kc: KubeConfig;
  readonly nodeNetns: string;
  readonly nodeIP: string;
  readonly netnsPrefix: string;
  readonly podsDir: string;
  readonly caFile: string;
  readonly dns: ClusterDnsSettings;
  readonly allocateIP: () => string;
  readonly releaseIP: (ip: string) => void;
}

export interface Sandbox {
  readonly netns: string;
  readonly podIP: string;
  readonly dir: string;
  readonly hostNetwork: boolean;
}

/** The network namespace of a pod that is not on the host network. */
export function podNetnsName(nodePrefix: string, uid: string): string {
  return `${nodePrefix}-p${uid.replace(/-/g, "").slice(0, 10)}`;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export async function createSandbox(pod: V1Pod, d: SandboxDeps): Promise<Sandbox> {
  const uid = pod.metadata?.uid ?? "";
  const namespace = pod.metadata?.namespace ?? "default";
  const name = pod.metadata?.name ?? "";
  const hostNetwork = pod.spec?.hostNetwork === true;
  const dir = join(d.podsDir, uid);
  await mkdir(dir, { recursive: true });
  let netns = d.nodeNetns;
  let podIP = d.nodeIP;
  if (!hostNetwork) {
    netns = podNetnsName(d.netnsPrefix, uid);
    podIP = d.allocateIP();
    try {
      await createNetns(netns);
      await attachPod(netns, d.nodeNetns, podIP);
    } catch (err) {
      d.releaseIP(podIP);
      await deleteNetns(netns);
      throw err;
    }
  }
  const hostname = pod.spec?.hostname ?? name;
  const resolvConf = podResolvConf(namespace, pod.spec ?? {}, d.dns);
  const hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${podIP}\t${hostname}\n`;
  await writeFile(join(dir, "resolv.conf"), resolvConf);
  await writeFile(join(dir, "hosts"), hosts);
  // `ip netns exec POD` then sees the pod's DNS settings too: the local stand-in for kubectl exec.
  if (!hostNetwork) await writeNetnsEtc(netns, { resolvConf, hosts });
  if (pod.spec?.automountServiceAccountToken !== false) await writeServiceAccount(pod, dir, d);
  return { netns, podIP, dir, hostNetwork };
}

async function writeServiceAccount(pod: V1Pod, dir: string, d: SandboxDeps): Promise<void> {
  const core = d.kc.makeApiClient(CoreV1Api);
  const namespace = pod.metadata?.namespace ?? "default";
  const sa = pod.spec?.serviceAccountName ?? "default";
  const token = await core.createNamespacedServiceAccountToken({
    name: sa, namespace,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 86_400,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
      },
    },
  });
  const saDir = join(dir, "serviceaccount");
  await mkdir(saDir, { recursive: true });
  await writeFile(join(saDir, "token"), token.status?.token ?? "", { mode: 0o600 });
  await writeFile(join(saDir, "namespace"), namespace);
  await copyFile(d.caFile, join(saDir, "ca.crt"));
}

export async function destroySandbox(s: Sandbox, d: SandboxDeps): Promise<void> {
  if (!s.hostNetwork) {
    await deleteNetns(s.netns);
    d.releaseIP(s.podIP);
  }
  await rm(s.dir, { recursive: true, force: true });
}

/**
 * The argv that starts a container's process inside the sandbox: `ip netns exec` enters the
 * network namespace, unshare gives it private mounts and a hostname of its own, and a fixed
 * script bind-mounts the pod's files over /etc/resolv.conf and /etc/hosts, and each volume at its
 * mountPath (making the mount point if it is missing; LocalCluster removes those at stop).
 * API values reach the script only as positional arguments, never as script text.
 */
export function sandboxArgv(s: Sandbox, hostname: string, mounts: readonly Mount[], command: string, args: readonly string[]): { command: string; args: string[] } {
  const script = [
    "set -e",
    'd=$1; h=$2; n=$3; shift 3',
    'mount --bind "$d/resolv.conf" /etc/resolv.conf',
    'mount --bind "$d/hosts" /etc/hosts',
    'while [ "$n" -gt 0 ]; do',
    '  src=$1; dst=$2; shift 2; n=$((n - 1))',
    '  if [ ! -e "$dst" ]; then',
    '    if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; : > "$dst"; fi',
    '  fi',
    '  mount --bind "$src" "$dst"',
    'done',
    'hostname "$h"',
    'exec "$@"',
  ].join("\n");
  return {
    command: "ip",
    args: [
      "netns", "exec", s.netns, "unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c", script, "signpost-pod",
      s.dir, hostname, String(mounts.length), ...mounts.flatMap((m) => [m.source, m.target]), command, ...args,
    ],
  };
}
