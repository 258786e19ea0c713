// The key every store and change tracker uses for a namespaced object: "namespace/name", the
// same spelling as client-go's MetaNamespaceKeyFunc, so keys read the same in logs as in kubectl.
import type { ObjectKey } from "./types.ts";

export function objectKey(namespace: string, name: string): ObjectKey {
  return `${namespace}/${name}`;
}
