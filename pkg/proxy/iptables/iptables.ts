// The narrow interface the proxier programs netfilter through (kube-proxy's pkg/util/iptables):
// restore a text, save a table, read one chain, delete one rule in a built-in chain,
// and the capabilities of the kernel and binaries, probed once. The real one runs the binaries
// (executor.ts); the fake next to it applies the text to an in-memory rule set.
import { setTimeout as sleep } from "node:timers/promises";
import type { IPFamily, Protocol } from "../../model/types.ts";
import { SignpostError } from "../../errors/errors.ts";
import type { TableName } from "./restore-parser.ts";

export interface IptablesCapabilities {
  /** iptables takes MASQUERADE --random-fully (1.6.2 and later). */
  readonly randomFully: boolean;
  /** Protocols the kernel can match and NAT (SCTP needs its modules). */
  readonly protocols: ReadonlySet<Protocol>;
  /**
   * Which kernel interface the binaries drive. It decides how a large full sync is cut up:
   * iptables-nft's restore time grows much faster than the input, iptables-legacy's with the
   * whole table on every call.
   */
  readonly backend: "nft" | "legacy";
}

export interface Iptables {
  readonly family: IPFamily;
  /** Applies restore input atomically per table, keeping what it does not name (--noflush). */
  restore(text: string): Promise<void>;
  /** iptables-save of one table. */
  save(table: TableName): Promise<string>;
  /** The rules of one chain as `-A CHAIN ...` lines; null when the chain does not exist. */
  chainRules(table: TableName, chain: string): Promise<string[] | null>;
  /** Deletes the rule when present; true when it was there. */
  deleteRule(table: TableName, chain: string, rule: readonly string[]): Promise<boolean>;
  capabilities(): Promise<IptablesCapabilities>;
}

/** iptables-restore refused its input; nothing of the failing table was applied. */
export class RestoreFailure extends SignpostError {
  /** The line iptables-restore named, 1-based; null when it named none. */
  readonly line: number | null;
  /** The input's lines around it, numbered. */
  readonly context: readonly string[];
  readonly detail: string;

  constructor(command: string, detail: string, line: number | null, context: readonly string[]) {
    super("SP_EXEC_FAILED", command, line === null ? detail : `${detail} (input line ${line})`);
    this.detail = detail;
    this.line = line;
    this.context = context;
  }
}

/** Any other iptables call that failed. */
export class IptablesCallFailure extends SignpostError {
  /** The xtables lock stayed held by another program past the wait (-w): worth trying again. */
  readonly lockBusy: boolean;

  constructor(command: string, args: readonly string[], exitCode: number, stderr: string) {
    super("SP_EXEC_FAILED", `${command} ${args.join(" ")}`, `exit ${exitCode}: ${stderr.trim().split("\n")[0] ?? ""}`);
    this.lockBusy = xtablesLockBusy(exitCode, stderr);
  }
}

/**
 * Whether a call failed only because another program held the xtables lock for longer than
 * the wait: iptables exits 4 (a resource problem) saying so. Every program that changes
 * iptables on the node takes that lock (kubelet, CNI plugins, firewalld, and on a test machine
 * every proxy of every simulated node), so it is a wait, never a verdict on the kernel.
 */
export function xtablesLockBusy(exitCode: number, stderr: string): boolean {
  return exitCode === 4 && /xtables lock|can't lock/i.test(stderr);
}

/**
 * Runs `call` until it ends other than on a busy xtables lock, telling `onBusy` before each
 * wait of `delayMs`; any other outcome, success or failure, is returned or thrown as it is.
 */
export async function whileLockBusy<T>(call: () => Promise<T>, onBusy: (err: IptablesCallFailure, attempt: number) => void, delayMs = 1000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof IptablesCallFailure) || !err.lockBusy) throw err;
      onBusy(err, attempt);
      await sleep(delayMs);
    }
  }
}
