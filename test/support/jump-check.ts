// The consistency check kube-proxy's proxier_test runs on every rendered rule set: each jump or
// goto names a chain the text declares (or a built-in chain), and each declared chain is used by
// some jump. A miss is either a restore failure waiting to happen or a leaked chain.

import type { TableName } from "../../pkg/proxy/iptables/restore-parser.ts";
import { parseRestore, ruleTargetChain } from "../../pkg/proxy/iptables/restore-parser.ts";

const builtinChainNames = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);

export interface JumpProblem {
  readonly table: TableName;
  readonly chain: string;
  readonly problem: "undeclared" | "unused";
  /** For "undeclared": the chain whose rule jumps there. */
  readonly from?: string;
}

export interface JumpCheckOptions {
  /** Chains that may be declared without a jump to them (e.g. entered from built-in chains). */
  readonly allowUnused?: ReadonlySet<string>;
  /** Chains that may be jumped to without being declared (e.g. left in place by a partial sync). */
  readonly allowUndeclared?: ReadonlySet<string>;
}

export function checkJumps(text: string, options: JumpCheckOptions = {}): JumpProblem[] {
  const problems: JumpProblem[] = [];
  for (const section of parseRestore(text)) {
    const declared = new Set<string>();
    const deleted = new Set<string>();
    const used = new Set<string>();
    const jumps: { from: string; to: string }[] = [];
    for (const op of section.operations) {
      if (op.op === "chain" || op.op === "new-chain") declared.add(op.chain);
      else if (op.op === "delete-chain") deleted.add(op.chain);
      else if (op.op === "append" || op.op === "insert") {
        const to = ruleTargetChain(op.rule);
        if (to !== null) {
          jumps.push({ from: op.rule.chain, to });
          used.add(to);
        }
      }
    }
    for (const { from, to } of jumps) {
      const ok = (declared.has(to) && !deleted.has(to)) || builtinChainNames.has(to) || options.allowUndeclared?.has(to) === true;
      if (!ok) problems.push({ table: section.table, chain: to, problem: "undeclared", from });
    }
    for (const chain of declared) {
      if (deleted.has(chain) || builtinChainNames.has(chain) || used.has(chain)) continue;
      if (options.allowUnused?.has(chain) === true) continue;
      problems.push({ table: section.table, chain, problem: "unused" });
    }
  }
  return problems;
}
