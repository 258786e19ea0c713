// Converts a v1 Pod into model.Pod, for signpost-dns's `--pods verified`: a-b-c-d.<ns>.pod.<zone>
// is answered only while a Pod in <ns> has that IP. A Pod being deleted (deletionTimestamp set)
// keeps no IPs here, as CoreDNS ignores terminating Pods, since its IP may soon be another's.
import type { V1Pod } from "@kubernetes/client-node";
import { frozenList } from "./frozen.ts";
import { type Interner, sharedInterner } from "./intern.ts";
import { ipFamilyOf } from "./ip.ts";
import type { Pod } from "./pod.ts";
import { namespacedIdentity } from "./subject.ts";

export function convertPod(pod: V1Pod, interner: Interner = sharedInterner): Pod {
  const { namespace, name } = namespacedIdentity("Pod", pod.metadata);
  const deleting = pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  return Object.freeze({
    namespace: interner.intern(namespace),
    name,
    ips: deleting ? frozenList<string>([]) : frozenList(podIPs(pod)),
  });
}

/** The Pod's addresses as listed, without repeats; anything that is not an IP is ignored. */
function podIPs(pod: V1Pod): string[] {
  const listed = (pod.status?.podIPs ?? []).map((entry) => entry.ip);
  const raw = listed.length > 0 ? listed : [pod.status?.podIP];
  const out: string[] = [];
  for (const value of raw) {
    if (typeof value === "string" && ipFamilyOf(value) !== null && !out.includes(value)) out.push(value);
  }
  return out;
}
