// The Pods' addresses, for `pods verified`: a pod name a-b-c-d.<ns>.pod.<zone> answers only when
// a Pod in <ns> has that address, and autopath trusts a source address only when exactly one
// Pod has it. An address may briefly be two Pods' (one terminating, one starting; or every
// hostNetwork Pod of a node), so each address keeps the list of Pods that claim it.
import { canonicalIP } from "../model/ip.ts";
import { keyOf, objectKey } from "../model/key.ts";
import type { Pod } from "../model/pod.ts";

/** The one Pod at an address, when there is exactly one. */
export interface PodAtAddress {
  readonly namespace: string;
  readonly name: string;
}

export class PodIPs {
  /** Canonical IP to the "namespace/name" keys of the Pods that have it, almost always one. */
  readonly #owners = new Map<string, readonly string[]>();
  /** The canonical IPs of each Pod, by namespace/name. */
  readonly #byPod = new Map<string, readonly string[]>();

  /** Whether a Pod in `namespace` has this address (canonical form). */
  has(namespace: string, ip: string): boolean {
    const prefix = `${namespace}/`;
    return this.#owners.get(ip)?.some((key) => key.startsWith(prefix)) ?? false;
  }

  /** The Pod that has this address, or null when none or several have it. */
  soleOwner(ip: string): PodAtAddress | null {
    const owners = this.#owners.get(ip);
    const key = owners?.length === 1 ? owners[0] : undefined;
    if (key === undefined) return null;
    const slash = key.indexOf("/");
    return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  }

  /** Records a Pod's addresses; true when they changed. */
  upsert(pod: Pod): boolean {
    const ips = [...new Set(pod.ips.flatMap((address) => canonicalIP(address) ?? []))].sort();
    return this.#set(keyOf(pod), ips);
  }

  /** Forgets a Pod; true when it had addresses. */
  delete(namespace: string, name: string): boolean {
    return this.#set(objectKey(namespace, name), []);
  }

  #set(podKey: string, ips: readonly string[]): boolean {
    const before = this.#byPod.get(podKey) ?? [];
    if (before.length === ips.length && before.every((ip, i) => ip === ips[i])) return false;
    for (const ip of before) {
      const rest = (this.#owners.get(ip) ?? []).filter((key) => key !== podKey);
      if (rest.length === 0) this.#owners.delete(ip);
      else this.#owners.set(ip, rest);
    }
    for (const ip of ips) this.#owners.set(ip, [...(this.#owners.get(ip) ?? []), podKey]);
    if (ips.length === 0) this.#byPod.delete(podKey);
    else this.#byPod.set(podKey, ips);
    return true;
  }
}
