// Registers a node with the API server as a kubelet does, reports it Ready, and keeps its lease
// in kube-node-lease renewed so the node lifecycle controller never marks it NotReady.
import { CoordinationV1Api, CoreV1Api, PatchStrategy, V1MicroTime, setHeaderOptions, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { setTimeout as sleep } from "node:timers/promises";
import { K8S_VERSION } from "../binaries.ts";

export interface NodeIdentity {
  readonly name: string;
  readonly ip: string;
  readonly zone: string;
}

const LEASE_SECONDS = 40;

function isConflictOrExists(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 409;
}

export async function registerNode(kc: KubeConfig, node: NodeIdentity): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const body: V1Node = {
    metadata: {
      name: node.name,
      labels: {
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": node.zone,
      },
    },
    spec: {},
  };
  try {
    await core.createNode({ body });
  } catch (err) {
    if (!isConflictOrExists(err)) throw err;
  }
  await reportReady(kc, node);
}

export async function reportReady(kc: KubeConfig, node: NodeIdentity): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const now = new Date().toISOString();
  const status = {
    status: {
      conditions: [
        { type: "Ready", status: "True", reason: "KubeletReady", message: "signpost local kubelet is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now },
        { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", lastHeartbeatTime: now, lastTransitionTime: now },
        { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", lastHeartbeatTime: now, lastTransitionTime: now },
        { type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      addresses: [{ type: "InternalIP", address: node.ip }, { type: "Hostname", address: node.name }],
      capacity: { cpu: "2", memory: "8Gi", pods: "110", "ephemeral-storage": "20Gi" },
      allocatable: { cpu: "2", memory: "8Gi", pods: "110", "ephemeral-storage": "20Gi" },
      nodeInfo: {
        kubeletVersion: K8S_VERSION, kubeProxyVersion: "", operatingSystem: "linux", architecture: "amd64",
        containerRuntimeVersion: "signpost-local://0.1.0", osImage: "signpost local cluster (network namespaces)",
        kernelVersion: "", machineID: node.name, systemUUID: node.name, bootID: node.name,
      },
    },
  };
  await core.patchNodeStatus({ name: node.name, body: status }, setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch));
}

/** Renews the node's lease every 10 s until the signal aborts. Failures are logged and retried. */
export async function heartbeat(kc: KubeConfig, node: NodeIdentity, log: Logger, signal: AbortSignal): Promise<void> {
  const leases = kc.makeApiClient(CoordinationV1Api);
  const namespace = "kube-node-lease";
  while (!signal.aborted) {
    try {
      const spec = { holderIdentity: node.name, leaseDurationSeconds: LEASE_SECONDS, renewTime: new V1MicroTime() };
      try {
        const current = await leases.readNamespacedLease({ name: node.name, namespace });
        await leases.replaceNamespacedLease({ name: node.name, namespace, body: { ...current, spec: { ...current.spec, ...spec } } });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
        await leases.createNamespacedLease({ namespace, body: { metadata: { name: node.name, namespace }, spec } });
      }
    } catch (err) {
      log.warn({ node: node.name, err }, "lease renewal failed; retrying");
    }
    try {
      await sleep(10_000, undefined, { signal });
    } catch {
      return;
    }
  }
}

/** Waits for kube-controller-manager to allocate the node's pod CIDR. */
export async function waitForPodCIDR(kc: KubeConfig, name: string, signal: AbortSignal): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  while (!signal.aborted) {
    const n = await core.readNode({ name });
    const cidr = n.spec?.podCIDR ?? "";
    if (cidr !== "") return cidr;
    await sleep(200, undefined, { signal });
  }
  throw new Error("stopped");
}
