// --node-local-replica: which Services have a replica on every node that listens on the
// Service's own ClusterIP (in the host network namespace), and the headless Service whose
// EndpointSlices say where those replicas are ready. Opt-in and named by the operator: nothing
// is steered unless this flag names it.
import { SignpostError } from "../../errors/errors.ts";
import type { ObjectKey } from "../../model/types.ts";
import { objectKey } from "../../model/key.ts";

export interface NodeLocalReplica {
  /** The Service whose ClusterIP traffic is steered, "namespace/name". */
  readonly service: ObjectKey;
  readonly namespace: string;
  /** The headless Service, in the same namespace, that selects the node-local replicas. */
  readonly localService: string;
}

/** DNS-1035 label: what a Service name must be. */
const serviceName = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Parses "NAMESPACE/SERVICE=LOCAL_SERVICE[,...]"; "" is none. */
export function parseNodeLocalReplicas(text: string, where = "--node-local-replica"): NodeLocalReplica[] {
  const out: NodeLocalReplica[] = [];
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const item of items) {
    const m = /^([^/=]+)\/([^/=]+)=([^/=]+)$/.exec(item);
    if (m === null) throw new SignpostError("SP_BAD_FLAG", where, `"${item}" is not NAMESPACE/SERVICE=LOCAL_SERVICE (e.g. kube-system/kube-dns=signpost-dns-node-local)`);
    const [, namespace = "", name = "", local = ""] = m;
    if (!namespaceName.test(namespace)) throw new SignpostError("SP_BAD_FLAG", where, `"${namespace}" in "${item}" is not a namespace name`);
    for (const n of [name, local]) {
      if (!serviceName.test(n)) throw new SignpostError("SP_BAD_FLAG", where, `"${n}" in "${item}" is not a Service name`);
    }
    if (name === local) throw new SignpostError("SP_BAD_FLAG", where, `"${item}": the local Service must be another (headless) Service than the steered one`);
    const service = objectKey(namespace, name);
    if (out.some((r) => r.service === service)) throw new SignpostError("SP_BAD_FLAG", where, `${service} is named twice`);
    out.push({ service, namespace, localService: local });
  }
  return out;
}

/** The label selector of the local Services' EndpointSlices (they are headless, so the main watch skips them). */
export function localSliceSelector(replicas: readonly NodeLocalReplica[]): string {
  const names = [...new Set(replicas.map((r) => r.localService))].sort();
  return `kubernetes.io/service-name in (${names.join(",")})`;
}
