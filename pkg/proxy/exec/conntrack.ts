// Runs the conntrack binary for the proxier: deletions of stale UDP flows (conntrack-cleanup.ts),
// sent as kube-proxy's `conntrack -D` filters but many to one process, through conntrack's
// --load-file (a temporary file: conntrack opens /dev/stdin, which fails on the socket Node
// gives a child as stdin); and the listing of the kernel's UDP flows that the reconciler after a
// restart reads. A filter that matches nothing is the common case and no failure.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IPFamily } from "../../model/types.ts";
import type { ConntrackDeletion, ConntrackFlow } from "../conntrack-cleanup.ts";
import type { CommandRunner } from "./command-runner.ts";
import { SignpostError } from "../../errors/errors.ts";

/** Filters per conntrack process: one process per batch instead of one per deletion. */
export const DELETIONS_PER_CALL = 1000;

export function conntrackArgs(d: ConntrackDeletion, family: IPFamily): string[] {
  const base = ["-D", "-p", "udp", ...(family === "IPv6" ? ["-f", "ipv6"] : [])];
  switch (d.kind) {
    case "replies-from":
      return [
        ...base,
        ...(d.origDst === null ? [] : ["--orig-dst", d.origDst]),
        "--orig-port-dst", String(d.origDport), "--reply-src", d.replySrc, "--reply-port-src", String(d.replySport),
      ];
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
  /** The deletions sent to one conntrack process. */
  readonly deletions: readonly ConntrackDeletion[];
  /** Flows deleted; null when the call failed. */
  readonly deleted: number | null;
  readonly error?: string;
}

/** The UDP flows of `conntrack -L` output; lines it cannot read are skipped. */
export function parseConntrackList(text: string): ConntrackFlow[] {
  const out: ConntrackFlow[] = [];
  const tuple = /src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g;
  for (const line of text.split("\n")) {
    if (!/\budp\b/.test(line)) continue;
    const [orig, reply] = [...line.matchAll(tuple)];
    if (orig === undefined || reply === undefined) continue;
    out.push({
      origSrc: orig[1] ?? "",
      origDst: orig[2] ?? "",
      origSport: Number(orig[3]),
      origDport: Number(orig[4]),
      replySrc: reply[1] ?? "",
      replySport: Number(reply[3]),
    });
  }
  return out;
}

export class Conntrack {
  readonly #runner: CommandRunner;
  readonly #family: IPFamily;

  constructor(family: IPFamily, runner: CommandRunner) {
    this.#family = family;
    this.#runner = runner;
  }

  /** This family's UDP flows in the kernel's table. */
  async list(): Promise<ConntrackFlow[]> {
    const r = await this.#runner.run("conntrack", ["-L", "-p", "udp", "-f", this.#family === "IPv6" ? "ipv6" : "ipv4"], { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new SignpostError("SP_EXEC_FAILED", "conntrack -L", r.stderr.trim() || `exit ${r.exitCode}`);
    return parseConntrackList(r.stdout);
  }

  /** Deletes in batches; conntrack prints each flow it deleted, which is the count. */
  async delete(deletions: readonly ConntrackDeletion[]): Promise<ConntrackOutcome[]> {
    const out: ConntrackOutcome[] = [];
    for (let i = 0; i < deletions.length; i += DELETIONS_PER_CALL) {
      const batch = deletions.slice(i, i + DELETIONS_PER_CALL);
      const lines = batch.map((d) => `${conntrackArgs(d, this.#family).join(" ")}\n`).join("");
      const r = await this.#loadFile(lines);
      if (r.exitCode === 0) out.push({ deletions: batch, deleted: r.stdout.split("\n").filter((l) => /\budp\b/.test(l)).length });
      else out.push({ deletions: batch, deleted: null, error: r.stderr.trim() || `exit ${r.exitCode}` });
    }
    return out;
  }

  async #loadFile(lines: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const dir = await mkdtemp(join(tmpdir(), "signpost-conntrack-"));
    try {
      const file = join(dir, "deletions");
      await writeFile(file, lines);
      return await this.#runner.run("conntrack", ["-R", file], { timeoutMs: 60_000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
