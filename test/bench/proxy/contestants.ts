// The contestants and how each is started on a bench node: signpost-proxy, and kube-proxy in
// iptables mode and (as a reference) in nftables mode. Each runs as a process of its own inside
// the node's network namespace (ip netns exec execs it, so the pid is the daemon's), with the
// same kubeconfig, cluster CIDR and default sync periods, serving /metrics on the node's link
// address so the harness can scrape it.
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import type { BenchNode } from "./bench-node.ts";
import { CLUSTER_CIDR } from "./bench-node.ts";
import { NODE_NAME } from "./cluster-objects.ts";
import { iptablesChoice } from "./plan.ts";

// As operators run it: through the bin, which finds Node.js 24 and uses the compile cache.
const signpostBin = fileURLToPath(new URL("../../../bin/signpost-proxy", import.meta.url));
export const METRICS_PORT = 10249;
export const HEALTHZ_PORT = 10256;

export type RuleBackend = "iptables" | "nftables";

/**
 * Which iptables both iptables-mode contestants use: the node's default (`iptables`, which is
 * iptables-nft here), or with BENCH_PROXY_IPTABLES=legacy the iptables-legacy binaries (signpost
 * with --iptables-backend legacy, kube-proxy with them first in its PATH, as its image's
 * iptables-wrapper would arrange).
 */
export function iptablesFlavour(): "default" | "legacy" {
  return iptablesChoice() === "legacy" ? "legacy" : "default";
}

/** The name of an iptables tool in the flavour in use: iptables-save or iptables-legacy-save. */
export function iptablesTool(tool: "iptables" | "iptables-save" | "iptables-restore"): string {
  return iptablesFlavour() === "legacy" ? tool.replace("iptables", "iptables-legacy") : tool;
}

export interface Contestant {
  /** "signpost", "kube-proxy (iptables)", "kube-proxy (nftables)". */
  readonly name: string;
  readonly isSignpost: boolean;
  readonly backend: RuleBackend;
  /** The command line, as printed and recorded with each figure (paths shortened). */
  commandFor(node: BenchNode, kubeconfig: string): Promise<{ command: string; args: string[]; path?: string; nodeOptions?: string }>;
}

/** Go's panic and fatal lines, klog's fatal and error lines, pino's fatal and error records. */
/**
 * How strongly a line of a daemon's output says why it fails: a Go panic or fatal error (2)
 * outranks a fatal or error log line (1), which kube-proxy also writes for a warning-like
 * complaint at start, before the panic that kills it.
 */
export function alarmRank(line: string): number {
  if (/^(panic: |fatal error: )/.test(line)) return 2;
  return /^([FE]\d{4} |\{"level":(50|60),)/.test(line) ? 1 : 0;
}

/**
 * Watches a daemon's output, line by line across chunks, for the first line of the strongest
 * kind that says why it fails (alarmRank). A Go panic's line is kept with the lines after it up
 * to its first frames, which name where it panicked: the goroutine dump is longer than the
 * output a note keeps, and its last lines (main, cli.Run) are the same for every panic.
 */
export class AlarmWatch {
  static readonly PANIC_CONTEXT_LINES = 6;
  #partial = "";
  #rank = 0;
  #alarm: string[] = [];
  #contextWanted = 0;

  feed(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#line(line);
  }

  #line(line: string): void {
    const rank = alarmRank(line);
    if (rank > this.#rank) {
      this.#rank = rank;
      this.#alarm = [line];
      this.#contextWanted = rank === 2 ? AlarmWatch.PANIC_CONTEXT_LINES : 0;
    } else if (this.#contextWanted > 0 && line.trim() !== "") {
      this.#alarm.push(line);
      this.#contextWanted--;
    }
  }

  /** The alarming line and, for a panic, the lines that locate it; empty when none was seen. */
  get lines(): readonly string[] {
    return this.#alarm;
  }
}

export class RunningDaemon {
  readonly pid: number;
  readonly metricsUrl: string;
  readonly #p: ResultPromise;
  #output = "";
  readonly #alarm = new AlarmWatch();
  #exited = false;
  #exitCode: number | null = null;
  #signal: string | null = null;

  constructor(p: ResultPromise, metricsUrl: string, logFile: string | null) {
    if (p.pid === undefined) throw new Error("the daemon did not start");
    this.pid = p.pid;
    this.#p = p;
    this.metricsUrl = metricsUrl;
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.#alarm.feed(text);
      this.#output = (this.#output + text).slice(-20_000);
      if (logFile !== null) appendFileSync(logFile, chunk);
    };
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    void p.then((r) => {
      this.#exited = true;
      this.#exitCode = r.exitCode ?? null;
      this.#signal = r.signal ?? null;
    });
  }

  get exited(): boolean {
    return this.#exited;
  }

  /**
   * What it printed, for a note when it failed, on one line: the first alarming line with, for a
   * Go panic, where it panicked (AlarmWatch), then the last lines.
   */
  tail(lines = 6): string {
    const last = this.#output.trim().split("\n").slice(-lines);
    const alarm = this.#alarm.lines;
    const first = alarm.length > 0 && !last.includes(alarm[0] ?? "") ? [...alarm, "…"] : [];
    return [...first, ...last].map((line) => line.trim()).join(" | ");
  }

  exitDescription(): string {
    return this.#signal !== null ? `was killed by ${this.#signal}` : `exited with code ${String(this.#exitCode)}`;
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    this.#p.kill("SIGTERM");
    const timer = setTimeout(() => this.#p.kill("SIGKILL"), 15_000);
    await this.#p;
    clearTimeout(timer);
  }
}

let daemonsStarted = 0;

/** Starts the contestant on the node; with BENCH_PROXY_LOGS=DIR its output is also kept there. */
export async function startDaemon(contestant: Contestant, node: BenchNode, kubeconfig: string): Promise<{ daemon: RunningDaemon; command: string }> {
  const { command, args, path, nodeOptions } = await contestant.commandFor(node, kubeconfig);
  const logDir = process.env["BENCH_PROXY_LOGS"] ?? "";
  if (logDir !== "") mkdirSync(logDir, { recursive: true });
  const logFile = logDir === "" ? null : join(logDir, `${String(++daemonsStarted).padStart(2, "0")}-${contestant.name.replace(/[^a-z0-9]+/g, "-")}.log`);
  const env = { ...(path === undefined ? {} : { PATH: `${path}:${process.env["PATH"] ?? ""}` }), ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }) };
  const p = execa("ip", ["netns", "exec", node.node.name, command, ...args], { reject: false, stdin: "ignore", buffer: false, env });
  const daemon = new RunningDaemon(p, `http://${node.linkAddress}:${METRICS_PORT}/metrics`, logFile);
  return { daemon, command: [...(path === undefined ? [] : [`PATH=${path}:$PATH`]), ...(nodeOptions === undefined ? [] : [`NODE_OPTIONS='${nodeOptions}'`]), "ip", "netns", "exec", "NODE_NETNS", command, ...args].join(" ") };
}

export function signpost(): Contestant {
  return {
    name: "signpost",
    isSignpost: true,
    backend: "iptables",
    commandFor(node, kubeconfig) {
      const profileDir = process.env["BENCH_SIGNPOST_CPU_PROF"];
      return Promise.resolve({
        command: signpostBin,
        ...(profileDir === undefined || profileDir === "" ? {} : { nodeOptions: `--cpu-prof --cpu-prof-dir=${profileDir}` }),
        args: [
          "--kubeconfig", kubeconfig,
          "--hostname-override", NODE_NAME,
          "--cluster-cidr", CLUSTER_CIDR,
          "--healthz-bind-address", `${node.linkAddress}:${HEALTHZ_PORT}`,
          "--metrics-bind-address", `${node.linkAddress}:${METRICS_PORT}`,
          // The conntrack sysctls left as they are, as kube-proxy's configuration below leaves them.
          "--conntrack-max-per-core", "0",
          "--conntrack-tcp-timeout-established", "0",
          "--conntrack-tcp-timeout-close-wait", "0",
          ...(iptablesFlavour() === "legacy" ? ["--iptables-backend", "legacy"] : []),
        ],
      });
    },
  };
}

let configDir: string | null = null;

/** kube-proxy with a KubeProxyConfiguration that leaves the host's conntrack sysctls alone. */
export function kubeProxy(binary: string, mode: RuleBackend): Contestant {
  return {
    name: `kube-proxy (${mode})`,
    isSignpost: false,
    backend: mode,
    async commandFor(node, kubeconfig) {
      configDir ??= await mkdtemp(join(tmpdir(), "signpost-bench-kube-proxy-"));
      // One file per node: the fleet starts many at once, and each must read its own addresses.
      const file = join(configDir, `kube-proxy-${mode}-${node.linkAddress}.yaml`);
      await writeFile(
        file,
        [
          "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
          "kind: KubeProxyConfiguration",
          "clientConnection:",
          `  kubeconfig: ${kubeconfig}`,
          `hostnameOverride: ${NODE_NAME}`,
          `mode: ${mode}`,
          `clusterCIDR: ${CLUSTER_CIDR}`,
          `metricsBindAddress: ${node.linkAddress}:${METRICS_PORT}`,
          `healthzBindAddress: ${node.linkAddress}:${HEALTHZ_PORT}`,
          "conntrack:",
          "  maxPerCore: 0",
          "  min: 0",
          "  tcpEstablishedTimeout: 0s",
          "  tcpCloseWaitTimeout: 0s",
          "  udpTimeout: 0s",
          "  udpStreamTimeout: 0s",
          "",
        ].join("\n"),
      );
      if (mode === "nftables" || iptablesFlavour() === "default") return { command: binary, args: [`--config=${file}`] };
      const path = join(configDir, "iptables-legacy-bin");
      await mkdir(path, { recursive: true });
      // Made once and never removed while instances run with it on their PATH.
      for (const tool of ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"]) {
        if (!existsSync(join(path, tool))) await symlink(`/usr/sbin/${tool.replace("tables", "tables-legacy")}`, join(path, tool));
      }
      return { command: binary, args: [`--config=${file}`], path };
    },
  };
}

/** The directory of kube-proxy's config files, removed at exit by the caller. */
export function kubeProxyConfigDir(): string | null {
  return configDir;
}

export async function kubeProxyVersion(binary: string): Promise<string> {
  const r = await execa(binary, ["--version"], { reject: false });
  return String(r.stdout).trim().replace(/^Kubernetes /, "") || `unknown (${String(r.stderr).trim()})`;
}
