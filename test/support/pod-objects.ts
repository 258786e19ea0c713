// Pods as API objects for the DNS tests of `pods verified`: created through the API server, with
// the status (podIPs, phase) a kubelet would report written through the status subresource.
// No kubelet runs them.
import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";

/** A Pod object with the given IPs in its status, Running. */
export async function createPod(core: CoreV1Api, namespace: string, name: string, ips: readonly string[]): Promise<void> {
  const body: V1Pod = {
    metadata: { name, namespace },
    spec: { containers: [{ name: "app", image: "registry.invalid/app:1" }], automountServiceAccountToken: false },
  };
  await core.createNamespacedPod({ namespace, body });
  await setPodStatus(core, namespace, name, { phase: "Running", podIP: ips[0] ?? "", podIPs: ips.map((ip) => ({ ip })) });
}

export async function setPodStatus(core: CoreV1Api, namespace: string, name: string, status: NonNullable<V1Pod["status"]>): Promise<void> {
  const current = await core.readNamespacedPodStatus({ namespace, name });
  await core.replaceNamespacedPodStatus({ namespace, name, body: { ...current, status: { ...current.status, ...status } } });
}

/** No controller-manager runs in the local cluster to make it, and Pod admission wants it. */
export async function withDefaultServiceAccount(core: CoreV1Api, namespace: string): Promise<void> {
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "default", namespace } } });
}
