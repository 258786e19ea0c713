// Whether this node should get traffic from load balancers, as kube-proxy's /healthz judges it
// (KEP-3836): not while its Node is being deleted or carries the cluster autoscaler's
// ToBeDeletedByClusterAutoscaler taint, so a load balancer drains it before it goes away.
// /livez ignores this: the proxy itself is fine and must not be restarted.
import type { Node } from "../../model/types.ts";

/** The taint the cluster autoscaler puts on a node it is about to remove. */
export const toBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";

/** null: the Node object is gone (deleted), or not created yet. */
export function nodeEligible(node: Node | null): boolean {
  if (node === null || node.deleting) return false;
  return !node.taints.some((t) => t.key === toBeDeletedTaint);
}
