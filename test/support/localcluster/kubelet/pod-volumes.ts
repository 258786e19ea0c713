// A pod's volumes as host paths: ConfigMap and Secret keys written as files, emptyDirs as
// directories, hostPaths as they are, and the projected service-account volume as the token
// directory. Containers see them at their mountPaths through bind mounts (see pod-sandbox.ts).
import { CoreV1Api, type KubeConfig, type V1Container, type V1Pod, type V1Volume } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface Mount {
  readonly source: string;
  readonly target: string;
}

async function writeKeys(dir: string, entries: Iterable<[string, Buffer]>, items: readonly { key: string; path: string }[] | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  const all = new Map(entries);
  const chosen: [string, Buffer][] = items === undefined ? [...all] : items.flatMap((i) => {
    const v = all.get(i.key);
    return v === undefined ? [] : [[i.path, v] as [string, Buffer]];
  });
  for (const [path, value] of chosen) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, value);
  }
}

async function volumeSource(v: V1Volume, pod: V1Pod, podDir: string, core: CoreV1Api): Promise<string | null> {
  const namespace = pod.metadata?.namespace ?? "default";
  const dir = join(podDir, "volumes", v.name);
  if (v.configMap !== undefined) {
    const cm = await core.readNamespacedConfigMap({ name: v.configMap.name ?? "", namespace });
    const entries: [string, Buffer][] = [
      ...Object.entries(cm.data ?? {}).map(([k, s]): [string, Buffer] => [k, Buffer.from(s)]),
      ...Object.entries(cm.binaryData ?? {}).map(([k, s]): [string, Buffer] => [k, Buffer.from(s, "base64")]),
    ];
    await writeKeys(dir, entries, v.configMap.items);
    return dir;
  }
  if (v.secret !== undefined) {
    const s = await core.readNamespacedSecret({ name: v.secret.secretName ?? "", namespace });
    await writeKeys(dir, Object.entries(s.data ?? {}).map(([k, b]): [string, Buffer] => [k, Buffer.from(b, "base64")]), v.secret.items);
    return dir;
  }
  if (v.emptyDir !== undefined) {
    await mkdir(dir, { recursive: true });
    return dir;
  }
  if (v.hostPath !== undefined) {
    const path = v.hostPath.path;
    if (!existsSync(path)) {
      if (v.hostPath.type === "DirectoryOrCreate") await mkdir(path, { recursive: true });
      else if (v.hostPath.type === "FileOrCreate") {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, "");
      } else return null;
    }
    return path;
  }
  if (v.projected?.sources?.some((s) => s.serviceAccountToken !== undefined) === true) {
    return join(podDir, "serviceaccount");
  }
  return null;
}

/** Host paths for the pod's volumes, by volume name; unsupported or missing ones are left out. */
export async function prepareVolumes(pod: V1Pod, podDir: string, kc: KubeConfig): Promise<Map<string, string>> {
  const core = kc.makeApiClient(CoreV1Api);
  const sources = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    const source = await volumeSource(v, pod, podDir, core);
    if (source !== null) sources.set(v.name, source);
  }
  return sources;
}

export function containerMounts(c: V1Container, sources: ReadonlyMap<string, string>): Mount[] {
  const mounts: Mount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const source = sources.get(m.name);
    if (source === undefined) continue;
    mounts.push({ source: m.subPath === undefined || m.subPath === "" ? source : join(source, m.subPath), target: m.mountPath });
  }
  return mounts;
}
