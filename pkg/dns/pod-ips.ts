// The Pods' addresses by namespace, for `pods verified`: a pod name a-b-c-d.<ns>.pod.<zone>
// answers only when a Pod in <ns> has that address. Counted, since an address may briefly be
// two Pods' (one terminating, one starting).
import { canonicalIP } from "../model/ip.ts";
import { keyOf, objectKey } from "../model/key.ts";
import type { Pod } from "../model/pod.ts";

export class PodIPs {
  /** "namespace/ip" of Pods, counted. */
  readonly #counts = new Map<string, number>();
  /** The "namespace/ip" keys of each Pod, by namespace/name. */
  readonly #byPod = new Map<string, readonly string[]>();

  /** Whether a Pod in `namespace` has this address (canonical form). */
  has(namespace: string, ip: string): boolean {
    return this.#counts.has(`${namespace}/${ip}`);
  }

  /** Records a Pod's addresses; true when they changed. */
  upsert(pod: Pod): boolean {
    const keys = [...new Set(pod.ips.flatMap((address) => canonicalIP(address) ?? []))].map((ip) => `${pod.namespace}/${ip}`);
    return this.#set(keyOf(pod), keys.sort());
  }

  /** Forgets a Pod; true when it had addresses. */
  delete(namespace: string, name: string): boolean {
    return this.#set(objectKey(namespace, name), []);
  }

  #set(podKey: string, keys: readonly string[]): boolean {
    const before = this.#byPod.get(podKey) ?? [];
    if (before.length === keys.length && before.every((k, i) => k === keys[i])) return false;
    for (const key of before) {
      const count = (this.#counts.get(key) ?? 1) - 1;
      if (count <= 0) this.#counts.delete(key);
      else this.#counts.set(key, count);
    }
    for (const key of keys) this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    if (keys.length === 0) this.#byPod.delete(podKey);
    else this.#byPod.set(podKey, keys);
    return true;
  }
}
