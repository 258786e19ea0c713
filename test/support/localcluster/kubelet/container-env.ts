// A container's environment as the kubelet computes it: literal values, the downward API
// (fieldRef), ConfigMap and Secret keys, envFrom, and $(VAR) references to earlier variables.
import type { CoreV1Api, V1Container, V1Pod } from "@kubernetes/client-node";

function fieldValue(pod: V1Pod, path: string, podIP: string, hostIP: string): string {
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
      return podIP;
    case "status.hostIP":
      return hostIP;
    default:
      return "";
  }
}

/** $(NAME) becomes NAME's value when defined; $$(NAME) is the escape for a literal $(NAME). */
export function expandVars(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    return name !== undefined && name in env ? (env[name] ?? "") : m;
  });
}

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

export async function containerEnv(pod: V1Pod, c: V1Container, podIP: string, hostIP: string, core: CoreV1Api): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? "default";
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef?.name !== undefined) {
      const cm = await core.readNamespacedConfigMap({ name: from.configMapRef.name, namespace });
      for (const [k, v] of Object.entries(cm.data ?? {})) env[prefix + k] = v;
    }
    if (from.secretRef?.name !== undefined) {
      const s = await core.readNamespacedSecret({ name: from.secretRef.name, namespace });
      for (const k of Object.keys(s.data ?? {})) env[prefix + k] = decode(s.data, k) ?? "";
    }
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expandVars(e.value, env);
    } else if (e.valueFrom?.fieldRef !== undefined) {
      env[e.name] = fieldValue(pod, e.valueFrom.fieldRef.fieldPath, podIP, hostIP);
    } else if (e.valueFrom?.configMapKeyRef !== undefined) {
      const ref = e.valueFrom.configMapKeyRef;
      const cm = await core.readNamespacedConfigMap({ name: ref.name ?? "", namespace });
      env[e.name] = cm.data?.[ref.key] ?? "";
    } else if (e.valueFrom?.secretKeyRef !== undefined) {
      const ref = e.valueFrom.secretKeyRef;
      const s = await core.readNamespacedSecret({ name: ref.name ?? "", namespace });
      env[e.name] = decode(s.data, ref.key) ?? "";
    } else {
      env[e.name] = "";
    }
  }
  return env;
}
