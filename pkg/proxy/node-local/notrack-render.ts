// The raw-table rules that deliver a steered ClusterIP's traffic to the node-local replica:
// NOTRACK for packets to ClusterIP:port and for the replica's answers from it. An untracked
// packet skips the nat table, so the proxy's DNAT never sees it; the ClusterIP is a local
// address of the node (the replica put it on a dummy interface), so it is delivered to the
// replica's socket. No conntrack entry is made, so the insert race of parallel A and AAAA
// queries over one socket cannot happen. With no steering the chain is empty and DNAT applies.
import type { Steering } from "./local-steering.ts";

/** Our chain in the raw table, jumped to from PREROUTING (pods) and OUTPUT (the node itself). */
export const NODE_LOCAL_CHAIN = "SIGNPOST-NODE-LOCAL";

export const nodeLocalHooks = ["PREROUTING", "OUTPUT"] as const;

/** The chain's rules, without the "-A CHAIN" prefix, in a stable order. */
export function notrackRules(steerings: readonly Steering[]): string[] {
  const rules: string[] = [];
  for (const s of [...steerings].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))) {
    for (const p of s.ports) {
      const proto = p.protocol.toLowerCase();
      const note = `-m comment --comment "${s.service}:${proto}/${p.port} to the node-local replica"`;
      rules.push(`-d ${s.clusterIP} -p ${proto} -m ${proto} --dport ${p.port} ${note} -j NOTRACK`);
      rules.push(`-s ${s.clusterIP} -p ${proto} -m ${proto} --sport ${p.port} ${note} -j NOTRACK`);
    }
  }
  return rules;
}

/**
 * iptables-restore --noflush input that rewrites the chain whole (declaring it flushes it) and
 * inserts the hooks that `missingHooks` names at the top of their built-in chains, in one atomic
 * commit of the raw table.
 */
export function renderNotrack(steerings: readonly Steering[], missingHooks: readonly string[]): string {
  const lines = ["*raw", `:${NODE_LOCAL_CHAIN} - [0:0]`];
  for (const hook of missingHooks) lines.push(`-I ${hook} 1 -m comment --comment "signpost node-local replicas" -j ${NODE_LOCAL_CHAIN}`);
  for (const rule of notrackRules(steerings)) lines.push(`-A ${NODE_LOCAL_CHAIN} ${rule}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/** The hooks that a `-S` listing of each built-in chain lacks. */
export function missingHooks(listed: ReadonlyMap<string, readonly string[] | null>): string[] {
  return nodeLocalHooks.filter((hook) => !(listed.get(hook) ?? []).some((rule) => rule.includes(`-j ${NODE_LOCAL_CHAIN}`)));
}
