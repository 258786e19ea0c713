// The raw-table rules that deliver a steered ClusterIP's traffic to the node-local replica:
// NOTRACK for packets to ClusterIP:port and for the replica's answers from it. An untracked
// packet skips the nat table, so the proxy's DNAT never sees it; the ClusterIP is a local
// address of the node (the replica put it there), so it is delivered to the replica's socket.
// No conntrack entry is made, so the insert race of parallel A and AAAA queries over one socket
// cannot happen. With no steering the chains are empty and DNAT applies.
//
// Packets from pods (PREROUTING) are untracked only while a socket of the replica is bound to
// ClusterIP:port (`-m socket --nowildcard`): a replica that dies (SIGKILL, OOM) stops taking them
// the same instant, before its readiness changes, and they go on through DNAT to the other
// replicas instead of drawing "port unreachable". The socket match does not exist in OUTPUT, so
// the node's own queries are untracked while the replica is ready, as the endpoint says.
import type { Steering } from "./local-steering.ts";

/** Our chain in raw PREROUTING: packets from pods. */
export const NODE_LOCAL_CHAIN = "SIGNPOST-NODE-LOCAL";
/** Our chain in raw OUTPUT: the node's own queries, and the replica's answers. */
export const NODE_LOCAL_OUTPUT_CHAIN = "SIGNPOST-NODE-LOCAL-OUT";

export const nodeLocalHooks: readonly { readonly hook: string; readonly chain: string }[] = [
  { hook: "PREROUTING", chain: NODE_LOCAL_CHAIN },
  { hook: "OUTPUT", chain: NODE_LOCAL_OUTPUT_CHAIN },
];

function sorted(steerings: readonly Steering[]): Steering[] {
  return [...steerings].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

/** Each chain's rules, without the "-A CHAIN" prefix, in a stable order. */
export function notrackRules(steerings: readonly Steering[]): { readonly prerouting: string[]; readonly output: string[] } {
  const prerouting: string[] = [];
  const output: string[] = [];
  for (const s of sorted(steerings)) {
    for (const p of s.ports) {
      const proto = p.protocol.toLowerCase();
      const note = `-m comment --comment "${s.service}:${proto}/${p.port} to the node-local replica"`;
      const toReplica = `-d ${s.clusterIP} -p ${proto} -m ${proto} --dport ${p.port}`;
      prerouting.push(`${toReplica} -m socket --nowildcard ${note} -j NOTRACK`);
      output.push(`${toReplica} ${note} -j NOTRACK`);
      output.push(`-s ${s.clusterIP} -p ${proto} -m ${proto} --sport ${p.port} ${note} -j NOTRACK`);
    }
  }
  return { prerouting, output };
}

/**
 * iptables-restore --noflush input that rewrites both chains whole (declaring a chain flushes
 * it) and inserts the hooks that `missingHooks` names at the top of their built-in chains, in
 * one atomic commit of the raw table.
 */
export function renderNotrack(steerings: readonly Steering[], missingHooks: readonly string[]): string {
  const rules = notrackRules(steerings);
  const lines = ["*raw", `:${NODE_LOCAL_CHAIN} - [0:0]`, `:${NODE_LOCAL_OUTPUT_CHAIN} - [0:0]`];
  for (const { hook, chain } of nodeLocalHooks) {
    if (missingHooks.includes(hook)) lines.push(`-I ${hook} 1 -m comment --comment "signpost node-local replicas" -j ${chain}`);
  }
  for (const rule of rules.prerouting) lines.push(`-A ${NODE_LOCAL_CHAIN} ${rule}`);
  for (const rule of rules.output) lines.push(`-A ${NODE_LOCAL_OUTPUT_CHAIN} ${rule}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/** The hooks that a `-S` listing of each built-in chain lacks. */
export function missingHooks(listed: ReadonlyMap<string, readonly string[] | null>): string[] {
  return nodeLocalHooks.filter(({ hook, chain }) => !(listed.get(hook) ?? []).some((rule) => rule.endsWith(`-j ${chain}`))).map((h) => h.hook);
}
