// signpost-dns as its users run it, for integration tests: bin/signpost-dns as a child process
// with the flags given, its pino lines kept, the ports it bound read from its "listening" line.
// Clients are the real dig and curl-like fetch; every address is loopback or a test namespace.
import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const run = promisify(execFile);
export const dnsBin = join(import.meta.dirname, "..", "..", "bin", "signpost-dns");

export interface DaemonPorts {
  readonly dns: number;
  readonly health: number;
  readonly ready: number;
  readonly metrics: number;
}

export class DnsDaemonProcess {
  readonly #child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  ports: DaemonPorts = { dns: 0, health: 0, ready: 0, metrics: 0 };
  /** The host of /health, /ready and /metrics in a URL: the daemon's --http-address. */
  httpHost = "127.0.0.1";

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    if (child.stdout !== null) {
      createInterface({ input: child.stdout }).on("line", (line) => {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ raw: line });
        }
        if (process.env["SIGNPOST_TEST_LOG"] !== undefined) process.stderr.write(`[signpost-dns] ${line}\n`);
      });
    }
    child.stderr?.on("data", (chunk: Buffer) => this.stderr.push(chunk.toString()));
  }

  /** Starts the daemon and waits for its "listening" line; ports 0 unless the args say otherwise. */
  static async start(args: readonly string[]): Promise<DnsDaemonProcess> {
    // A flag the test gives replaces the default: the daemon refuses a flag given twice.
    const defaults = [["--health-port", "0"], ["--ready-port", "0"], ["--metrics-port", "0"], ["--lameduck", "0s"]]
      .filter(([flag = ""]) => !args.some((arg) => arg === flag || arg.startsWith(`${flag}=`)))
      .flat();
    const child = spawn(dnsBin, [...defaults, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const daemon = new DnsDaemonProcess(child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const listening = daemon.lines.find((l) => l["msg"] === "listening");
      if (listening !== undefined) {
        const dns = String(listening["dns"]);
        daemon.ports = {
          dns: Number(dns.slice(dns.lastIndexOf(":") + 1)),
          health: Number(listening["health"]),
          ready: Number(listening["ready"]),
          metrics: Number(listening["metrics"]),
        };
        const httpAddress = listening["httpAddress"];
        daemon.httpHost = urlHost(typeof httpAddress === "string" ? httpAddress : "127.0.0.1");
        return daemon;
      }
      const code = await Promise.race([daemon.exited, new Promise<"wait">((r) => setTimeout(() => r("wait"), 50))]);
      if (code !== "wait") throw new Error(`signpost-dns exited with ${String(code)} before listening: ${daemon.stderr.join("")}`);
      if (Date.now() > deadline) {
        await daemon.kill();
        throw new Error(`signpost-dns did not listen within 30 s: ${daemon.stderr.join("")}`);
      }
    }
  }

  /** The daemon's process id: bin/signpost-dns execs node, so this is the node process itself. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Still running: no exit seen and the kernel still has the process. */
  get alive(): boolean {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return false;
    try {
      process.kill(this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Resident memory in bytes, from /proc/PID/status (VmRSS). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kib === undefined) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(kib) * 1024;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
    await this.exited;
  }

  async http(which: "health" | "ready" | "metrics", path = `/${which}`): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://${this.httpHost}:${this.ports[which]}${path}`);
    return { status: response.status, body: await response.text() };
  }
}

/** An address as a URL's host: every address is reached through loopback; IPv6 in brackets. */
function urlHost(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}

/** Runs signpost-dns to completion (for flags that make it exit), with its exit code and stderr. */
export async function runDnsBin(args: readonly string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(dnsBin, [...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

export interface DigResult {
  readonly status: string;
  readonly flags: readonly string[];
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  readonly raw: string;
}

/** Asks with the real dig and reads its sections; records as "name TYPE data", without TTLs. */
export async function dig(server: string, port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run("dig", [`@${server}`, "-p", String(port), "+time=3", "+tries=1", "+nocookie", ...args], { timeout: 20_000 });
  return parseDig(stdout);
}

/** dig's output read as dig() reads it: for a dig run elsewhere (in a network namespace). */
export function parseDig(stdout: string): DigResult {
  const section = (name: string): string[] => {
    const start = stdout.indexOf(`;; ${name} SECTION:`);
    if (start < 0) return [];
    const lines = stdout.slice(start).split("\n").slice(1);
    const end = lines.findIndex((l) => l.trim() === "");
    return lines
      .slice(0, end < 0 ? lines.length : end)
      .map((l) => l.split(/\s+/))
      .map(([owner = "", , , type = "", ...data]) => [owner, type, ...data].join(" "));
  };
  return {
    status: /status: (\w+)/.exec(stdout)?.[1] ?? "",
    flags: (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? "").trim().split(" "),
    answer: section("ANSWER"),
    authority: section("AUTHORITY"),
    additional: section("ADDITIONAL"),
    raw: stdout,
  };
}
