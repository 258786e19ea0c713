// Turns each stale-UDP-flow deletion (conntrack-cleanup.ts) into one `conntrack -D` call, as
// kube-proxy's conntrack package does. conntrack exits 1 when nothing matched, which is the
// common case and no failure.
import type { IPFamily } from "../../model/types.ts";
import type { ConntrackDeletion } from "../conntrack-cleanup.ts";
import type { CommandRunner } from "./command-runner.ts";

export function conntrackArgs(d: ConntrackDeletion, family: IPFamily): string[] {
  const base = ["-D", "-p", "udp", ...(family === "IPv6" ? ["-f", "ipv6"] : [])];
  switch (d.kind) {
    case "service-ip":
      return [...base, "--orig-dst", d.serviceIP];
    case "service-ip-to-endpoint":
      return [...base, "--orig-dst", d.serviceIP, "--dst-nat", d.endpointIP];
    case "node-port":
      return [...base, "--orig-port-dst", String(d.nodePort)];
    case "node-port-to-endpoint":
      return [...base, "--orig-port-dst", String(d.nodePort), "--dst-nat", d.endpointIP];
  }
}

export interface ConntrackOutcome {
  readonly deletion: ConntrackDeletion;
  /** Flows deleted; null when the call failed. */
  readonly deleted: number | null;
  readonly error?: string;
}

export class Conntrack {
  readonly #runner: CommandRunner;
  readonly #family: IPFamily;

  constructor(family: IPFamily, runner: CommandRunner) {
    this.#family = family;
    this.#runner = runner;
  }

  async delete(deletions: readonly ConntrackDeletion[]): Promise<ConntrackOutcome[]> {
    const out: ConntrackOutcome[] = [];
    for (const deletion of deletions) {
      const r = await this.#runner.run("conntrack", conntrackArgs(deletion, this.#family), { timeoutMs: 30_000 });
      const counted = /([0-9]+) flow entries have been deleted/.exec(r.stderr);
      if (counted !== null) out.push({ deletion, deleted: Number(counted[1]) });
      else out.push({ deletion, deleted: null, error: r.stderr.trim() || `exit ${r.exitCode}` });
    }
    return out;
  }
}
