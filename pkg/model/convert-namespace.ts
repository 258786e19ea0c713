// Converts a v1 Namespace into model.Namespace. The DNS server needs only the name, to tell
// NXDOMAIN for a missing namespace from NODATA in an existing one.
import type { V1Namespace } from "@kubernetes/client-node";
import { type Interner, sharedInterner } from "./intern.ts";
import { clusterIdentity } from "./subject.ts";
import type { Namespace } from "./types.ts";

export function convertNamespace(namespace: V1Namespace, interner: Interner = sharedInterner): Namespace {
  const { name } = clusterIdentity("Namespace", namespace.metadata);
  return Object.freeze({ name: interner.intern(name) });
}
