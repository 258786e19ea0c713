// Keeps the raw table's node-local chain equal to what the watched objects say, per IP family:
// every change of the steered Services or of the local Services' EndpointSlices recomputes the
// steering, and a different one is restored at once (not at the proxier's next sync: a replica
// that stops being ready must lose its traffic now). A periodic pass restores the chain and its
// hooks if someone flushed the raw table. Writes never overlap; only the latest state is written.
import type { Logger } from "pino";
import type { EndpointSlice, IPFamily, Service } from "../../model/types.ts";
import { keyOf } from "../../model/key.ts";
import type { Iptables } from "../iptables/iptables.ts";
import type { NodeLocalReplica } from "./node-local-option.ts";
import { steeringFor, type Steering } from "./local-steering.ts";
import { missingHooks, nodeLocalHooks, notrackRules, renderNotrack } from "./notrack-render.ts";

export interface NodeLocalSteeringOptions {
  readonly replicas: readonly NodeLocalReplica[];
  readonly nodeName: string;
  readonly iptables: readonly Iptables[];
  readonly log: Logger;
  /** How often the chain is checked against the kernel. */
  readonly recheckMs: number;
}

export class NodeLocalSteering {
  readonly #o: NodeLocalSteeringOptions;
  readonly #services = new Map<string, Service>();
  /** Local Service slices by "namespace/slice-name". */
  readonly #slices = new Map<string, EndpointSlice>();
  /** What each family's chain holds now, as its rule lines; absent until first written. */
  readonly #written = new Map<IPFamily, string>();
  #writing: Promise<void> = Promise.resolve();
  #pending = false;
  #timer: NodeJS.Timeout | null = null;
  #started = false;

  constructor(options: NodeLocalSteeringOptions) {
    this.#o = options;
  }

  onService(prev: Service | null, cur: Service | null): void {
    const key = keyOf(cur ?? prev ?? { namespace: "", name: "" });
    if (!this.#o.replicas.some((r) => r.service === key)) return;
    if (cur === null) this.#services.delete(key);
    else this.#services.set(key, cur);
    this.#request();
  }

  onLocalSlice(prev: EndpointSlice | null, cur: EndpointSlice | null): void {
    const s = cur ?? prev;
    if (s === null) return;
    const key = `${s.namespace}/${s.name}`;
    if (cur === null) this.#slices.delete(key);
    else this.#slices.set(key, cur);
    this.#request();
  }

  /** Writes the first state (after the watches synced) and starts the periodic check. */
  start(): void {
    this.#started = true;
    this.#request();
    this.#timer = setInterval(() => this.#request(), this.#o.recheckMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#started = false;
    await this.#writing;
  }

  /** The steerings of one family as the objects say now. */
  desired(family: IPFamily): Steering[] {
    const out: Steering[] = [];
    for (const replica of this.#o.replicas) {
      const localSlices = [...this.#slices.values()].filter((s) => s.namespace === replica.namespace && s.serviceName === replica.localService);
      const s = steeringFor({ replica, service: this.#services.get(replica.service) ?? null, localSlices, nodeName: this.#o.nodeName, family });
      if (s !== null) out.push(s);
    }
    return out;
  }

  #request(): void {
    if (!this.#started || this.#pending) return;
    this.#pending = true;
    this.#writing = this.#writing.then(async () => {
      this.#pending = false;
      for (const ipt of this.#o.iptables) await this.#writeFamily(ipt);
    });
  }

  /** Restores the family's chain when it, or a hook to it, differs from what the objects say. */
  async #writeFamily(ipt: Iptables): Promise<void> {
    const steerings = this.desired(ipt.family);
    const rules = notrackRules(steerings);
    const text = [...rules.prerouting, ...rules.output].join("\n");
    try {
      const listed = new Map<string, string[] | null>();
      let inKernel = 0;
      for (const { hook, chain } of nodeLocalHooks) {
        listed.set(hook, await ipt.chainRules("raw", hook));
        inKernel += (await ipt.chainRules("raw", chain))?.length ?? -1;
      }
      const missing = missingHooks(listed);
      if (missing.length === 0 && this.#written.get(ipt.family) === text && inKernel === rules.prerouting.length + rules.output.length) return;
      await ipt.restore(renderNotrack(steerings, missing));
      const changed = this.#written.get(ipt.family) !== text;
      this.#written.set(ipt.family, text);
      if (!changed) {
        this.#o.log.warn({ family: ipt.family, missingHooks: missing }, "node-local replicas: the raw table had lost our rules (flushed by someone?); restored");
        return;
      }
      const steered = steerings.map((s) => `${s.service} ${s.clusterIP} ${s.ports.map((p) => `${p.protocol}/${p.port}`).join(",")}`);
      this.#o.log.info(
        { family: ipt.family, steered },
        steered.length === 0 ? "node-local replicas: none ready on this node; the ClusterIPs DNAT to the other replicas" : "node-local replicas: ClusterIP traffic goes untracked to this node's replica",
      );
    } catch (err) {
      this.#written.delete(ipt.family);
      this.#o.log.error({ err, family: ipt.family }, "node-local replicas: cannot write the raw table; retrying at the next check");
    }
  }
}
