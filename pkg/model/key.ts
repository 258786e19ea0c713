// The key every store and change tracker uses for a namespaced object: "namespace/name", the
// same spelling as client-go's MetaNamespaceKeyFunc, so keys read the same in logs as in kubectl.
// An EndpointSlice is grouped under the key of the Service it belongs to (its
// kubernetes.io/service-name label), as kube-proxy's and CoreDNS's slice caches group them.
import type { ObjectKey } from "./types.ts";

export function objectKey(namespace: string, name: string): ObjectKey {
  return `${namespace}/${name}`;
}

/** The key of a Service, a Pod, an EndpointSlice: anything with a namespace and a name. */
export function keyOf(object: { readonly namespace: string; readonly name: string }): ObjectKey {
  return `${object.namespace}/${object.name}`;
}

/** The key of the Service a slice belongs to; null for a slice without the service-name label. */
export function serviceKeyOf(slice: { readonly namespace: string; readonly serviceName: string }): ObjectKey | null {
  return slice.serviceName === "" ? null : `${slice.namespace}/${slice.serviceName}`;
}

/** Slices grouped by the Service they belong to, in the order given; slices of no Service are left out. */
export function slicesByService<S extends { readonly namespace: string; readonly serviceName: string }>(slices: Iterable<S>): Map<ObjectKey, S[]> {
  const groups = new Map<ObjectKey, S[]>();
  for (const slice of slices) {
    const key = serviceKeyOf(slice);
    if (key === null) continue;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [slice]);
    else group.push(slice);
  }
  return groups;
}
