// The real Iptables: iptables-restore, iptables-save and iptables (or their ip6tables twins) run
// through a CommandRunner. Every call waits for the xtables lock (-w) rather than failing when
// another program holds it; every restore goes through stdin with --noflush, so chains the text
// does not name are kept and each table commits atomically.
import { allInOrder } from "../../errors/all-in-order.ts";
import type { IPFamily, Protocol } from "../../model/types.ts";
import type { CommandRunner } from "../exec/command-runner.ts";
import type { Iptables, IptablesCapabilities } from "./iptables.ts";
import { IptablesCallFailure, RestoreFailure, xtablesLockBusy } from "./iptables.ts";
import type { TableName } from "./restore-parser.ts";
import { failedLine, linesAround, restoreMessage } from "./restore-failure.ts";

/** Seconds to wait for the xtables lock, as kube-proxy does. */
const LOCK_WAIT_SECONDS = "5";

/** Every restore: the lock waited for, and the chains the text does not name kept. */
const RESTORE_ARGS: readonly string[] = ["-w", LOCK_WAIT_SECONDS, "--noflush"];

/**
 * A restore of a large cluster's rules takes minutes with iptables-nft; a stuck one must still
 * end, or no sync would ever run again.
 */
const RESTORE_TIMEOUT_MS = 30 * 60_000;

/** A chain that only lives while capabilities are probed. */
export const PROBE_CHAIN = "KUBE-SIGNPOST-PROBE";

interface Binaries {
  readonly iptables: string;
  readonly save: string;
  readonly restore: string;
}

/**
 * Which iptables to run: the node's default (`iptables`, whatever its alternatives point to), or
 * the legacy or nft flavour by name. A node must use one flavour for everyone (kubelet, CNI, us).
 */
export type IptablesBackend = "default" | "legacy" | "nft";

export const iptablesBackends: readonly IptablesBackend[] = ["default", "legacy", "nft"];

function binaries(family: IPFamily, backend: IptablesBackend): Binaries {
  const base = family === "IPv4" ? "iptables" : "ip6tables";
  const flavour = backend === "default" ? "" : `-${backend}`;
  return { iptables: `${base}${flavour}`, save: `${base}${flavour}-save`, restore: `${base}${flavour}-restore` };
}

export class IptablesExecutor implements Iptables {
  readonly family: IPFamily;
  readonly #runner: CommandRunner;
  readonly #bin: Binaries;
  readonly #backend: IptablesBackend;
  #caps: Promise<IptablesCapabilities> | null = null;

  constructor(family: IPFamily, runner: CommandRunner, backend: IptablesBackend = "default") {
    this.family = family;
    this.#runner = runner;
    this.#bin = binaries(family, backend);
    this.#backend = backend;
  }

  async restore(text: string): Promise<void> {
    const args = RESTORE_ARGS;
    const r = await this.#runner.run(this.#bin.restore, args, { input: text, timeoutMs: RESTORE_TIMEOUT_MS });
    if (r.exitCode === 0) return;
    const line = failedLine(r.stderr);
    throw new RestoreFailure(`${this.#bin.restore} ${args.join(" ")}`, restoreMessage(r.stderr), line, line === null ? [] : linesAround(text, line));
  }

  async save(table: TableName): Promise<string> {
    const args = ["-t", table];
    const r = await this.#runner.run(this.#bin.save, args, { timeoutMs: RESTORE_TIMEOUT_MS });
    if (r.exitCode !== 0) throw new IptablesCallFailure(this.#bin.save, args, r.exitCode, r.stderr);
    return r.stdout;
  }

  async chainRules(table: TableName, chain: string): Promise<string[] | null> {
    const args = ["-w", LOCK_WAIT_SECONDS, "-t", table, "-S", chain];
    const r = await this.#runner.run(this.#bin.iptables, args);
    // Exit 1 is "no such chain"; anything else is a real failure.
    if (r.exitCode === 1) return null;
    if (r.exitCode !== 0) throw new IptablesCallFailure(this.#bin.iptables, args, r.exitCode, r.stderr);
    return r.stdout.split("\n").filter((l) => l.startsWith("-A "));
  }

  async deleteRule(table: TableName, chain: string, rule: readonly string[]): Promise<boolean> {
    const check = ["-w", LOCK_WAIT_SECONDS, "-t", table, "-C", chain, ...rule];
    if ((await this.#runner.run(this.#bin.iptables, check)).exitCode !== 0) return false;
    const del = ["-w", LOCK_WAIT_SECONDS, "-t", table, "-D", chain, ...rule];
    const r = await this.#runner.run(this.#bin.iptables, del);
    if (r.exitCode !== 0) throw new IptablesCallFailure(this.#bin.iptables, del, r.exitCode, r.stderr);
    return true;
  }

  /** Probed once; a probe that failed (a busy xtables lock) is tried again at the next call. */
  capabilities(): Promise<IptablesCapabilities> {
    this.#caps ??= this.#probe().catch((err: unknown) => {
      this.#caps = null;
      throw err;
    });
    return this.#caps;
  }

  /**
   * What the node's iptables can do. --random-fully, as kube-proxy decides it, from the version
   * (1.6.2 and later; the kernel has had it since 3.13). SCTP from a rule tried in a throwaway
   * chain of the filter table, where few rules live: a restore rewrites its whole table under
   * iptables-legacy, and a probe in the nat table cost as much as a sync on a node with rules in
   * place. A refusal means SCTP is missing, but a busy xtables lock means nothing and fails the
   * probe (IptablesCallFailure.lockBusy). The backend is the flavour asked for, or what the node's
   * default iptables says it is.
   */
  async #probe(): Promise<IptablesCapabilities> {
    const [version, sctp] = await allInOrder([this.#runner.run(this.#bin.iptables, ["--version"]), this.#probeSctp()]);
    const protocols = new Set<Protocol>(["TCP", "UDP"]);
    if (sctp) protocols.add("SCTP");
    const backend = this.#backend !== "default" ? this.#backend : version.stdout.includes("nf_tables") ? "nft" : "legacy";
    return { randomFully: hasRandomFully(version.stdout), protocols, backend };
  }

  async #probeSctp(): Promise<boolean> {
    const args = RESTORE_ARGS;
    const text = `*filter\n:${PROBE_CHAIN} - [0:0]\n-A ${PROBE_CHAIN} -m sctp -p sctp --dport 1 -j RETURN\nCOMMIT\n`;
    const r = await this.#runner.run(this.#bin.restore, args, { input: text });
    if (xtablesLockBusy(r.exitCode, r.stderr)) throw new IptablesCallFailure(this.#bin.restore, args, r.exitCode, r.stderr);
    await this.#runner.run(this.#bin.restore, args, { input: `*filter\n:${PROBE_CHAIN} - [0:0]\n-X ${PROBE_CHAIN}\nCOMMIT\n` });
    return r.exitCode === 0;
  }
}

/** iptables 1.6.2 and later take MASQUERADE --random-fully (kube-proxy's RandomFullyMinVersion). */
export function hasRandomFully(versionOutput: string): boolean {
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(versionOutput);
  if (m === null) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 2)));
}
