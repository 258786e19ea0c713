// Writes kubeconfig files for certificate-authenticated clients. JSON strings are valid YAML
// scalars, so every value is written with JSON.stringify and no path can break the file.
import { writeFile } from "node:fs/promises";

export interface KubeconfigSpec {
  readonly server: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly user: string;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: signpost-local",
    "  cluster:",
    `    server: ${q(spec.server)}`,
    `    certificate-authority: ${q(spec.caFile)}`,
    "users:",
    `- name: ${q(spec.user)}`,
    "  user:",
    `    client-certificate: ${q(spec.certFile)}`,
    `    client-key: ${q(spec.keyFile)}`,
    "contexts:",
    "- name: signpost-local",
    "  context:",
    "    cluster: signpost-local",
    `    user: ${q(spec.user)}`,
    "current-context: signpost-local",
    "",
  ].join("\n");
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
}
