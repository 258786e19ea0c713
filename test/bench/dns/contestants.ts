// The two contestants, started the same way: pinned to core 0 with taskset, watching the same API
// server with the admin kubeconfig, forwarding to the same local dnsmasq, answering on a loopback
// port of the bench's namespace. "Ready" means /ready answered 200 (CoreDNS's ready plugin waits
// for the kubernetes plugin's first sync; signpost-dns's /ready for its own), so memory is read
// after the full sync in both.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../support/localcluster/free-port.ts";
import { SupervisedProcess } from "../../support/localcluster/supervised-process.ts";
import { dnsBin } from "../../support/dns-daemon.ts";
import { corefile } from "./corefile.ts";

export type ContestantId = "signpost" | "coredns";

export interface ContestantSetup {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly resolvConf: string;
  readonly zone: string;
  /** Path of the coredns binary, or null when it could not be built. */
  readonly corednsBinary: string | null;
  /**
   * Extra NODE_OPTIONS for signpost-dns, from BENCH_DNS_NODE_OPTIONS: e.g. "--cpu-prof
   * --cpu-prof-dir=DIR" or "--heapsnapshot-signal=SIGUSR2". Nothing that prints on stdout (such
   * as --trace-gc): where no Node.js 24 is cached, bin/node24 reads node's stdout to check its
   * version.
   */
  readonly signpostNodeOptions: string;
}

export interface RunningContestant {
  readonly id: ContestantId;
  readonly pid: number;
  readonly dnsPort: number;
  readonly command: string;
  /** Seconds from spawn to /ready 200. */
  readonly readySeconds: number;
  /** When /ready first answered 200, in ms since the epoch (as pino's "time"). */
  readonly readyAtMs: number;
  readonly process: SupervisedProcess;
  stop(): Promise<void>;
}

export const SERVER_CORE = "0";

async function waitReady(p: SupervisedProcess, what: string, readyPort: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!p.running) throw new Error(`${what} exited before it was ready; last lines of its log:\n${p.tail()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${readyPort}/ready`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000} s; last lines of its log:\n${p.tail()}`);
}

let started = 0;

export async function startContestant(id: ContestantId, setup: ContestantSetup, readyTimeoutMs: number): Promise<RunningContestant> {
  const [dnsPort, healthPort, readyPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const n = ++started;
  let args: string[];
  let env: Record<string, string> = {};
  if (id === "signpost") {
    args = [
      "-c", SERVER_CORE, dnsBin,
      "--kubeconfig", setup.kubeconfigPath, "--zone", setup.zone, "--listen", `127.0.0.1:${dnsPort}`,
      "--upstream", setup.resolvConf, "--pods", "insecure",
      "--health-port", String(healthPort), "--ready-port", String(readyPort), "--metrics-port", String(metricsPort),
      "--lameduck", "5s",
    ];
    if (setup.signpostNodeOptions !== "") env = { NODE_OPTIONS: setup.signpostNodeOptions };
  } else {
    if (setup.corednsBinary === null) throw new Error("CoreDNS is missing");
    const file = join(setup.dir, `Corefile.${n}`);
    writeFileSync(file, corefile({ zone: setup.zone, dnsPort, healthPort, readyPort, metricsPort, kubeconfigPath: setup.kubeconfigPath, resolvConf: setup.resolvConf }));
    args = ["-c", SERVER_CORE, setup.corednsBinary, "-conf", file];
  }
  const command = `${Object.entries(env).map(([k, v]) => `${k}='${v}' `).join("")}taskset ${args.join(" ")}`;
  const t0 = performance.now();
  const p = new SupervisedProcess({ name: id, command: "taskset", args, env, logFile: join(setup.dir, `${id}.${n}.log`) });
  try {
    await waitReady(p, id, readyPort, readyTimeoutMs);
  } catch (err) {
    await p.kill();
    throw err;
  }
  const readySeconds = (performance.now() - t0) / 1000;
  const readyAtMs = Date.now();
  const profiling = id === "signpost" && setup.signpostNodeOptions !== "";
  return {
    id,
    pid: p.pid,
    dnsPort,
    command,
    readySeconds,
    readyAtMs,
    process: p,
    // A profile is written only on a clean exit; otherwise nothing of the process matters.
    stop: () => (profiling ? p.stop(20_000) : p.kill()),
  };
}

/** signpost-dns's one heap settle after its first load is built, from its log. */
export interface HeapSettle {
  /** How long it ran, answering nothing meanwhile. */
  readonly pauseMs: number;
  /** From /ready first answering 200 to the settle's start. */
  readonly afterReadyMs: number;
}

/** The settle signpost-dns logs once its first load is built; null until it has. */
export function heapSettleOf(server: RunningContestant): HeapSettle | null {
  for (const line of readFileSync(server.process.logFile, "utf8").split("\n")) {
    if (!line.includes('"heap settled: the first load is built"')) continue;
    const entry = JSON.parse(line) as { time: number; ms: number };
    return { pauseMs: entry.ms, afterReadyMs: entry.time - entry.ms - server.readyAtMs };
  }
  return null;
}

export interface Memory {
  readonly rssMiB: number;
  readonly hwmMiB: number;
}

/** VmRSS and VmHWM of one process, from /proc/PID/status. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]);
  };
  return { rssMiB: kib("VmRSS") / 1024, hwmMiB: kib("VmHWM") / 1024 };
}

/** User plus system CPU seconds the process has used so far, from /proc/PID/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
