// signpost-proxy run as the real program for integration tests: in the test's own network
// namespace, where the shared API server's loopback address is reachable, with its iptables,
// conntrack and sysctl calls sent into the node namespace (--iptables-netns). Its JSON log lines
// are kept for assertions.
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { freePort } from "./localcluster/free-port.ts";
import { eventually } from "./eventually.ts";

/** As its users run it: the bin script runs the bundle hack/setup.sh built, or the sources edited since (bin/entry.sh). */
const bin = fileURLToPath(new URL("../../bin/signpost-proxy", import.meta.url));

export interface ProxyDaemonOptions {
  readonly kubeconfig: string;
  readonly nodeName: string;
  readonly netns: string;
  readonly extraArgs?: readonly string[];
  /** The healthz port to give it (one a test holds, say); a free one when absent. */
  readonly healthzPort?: number;
}

export class ProxyDaemon {
  readonly healthzPort: number;
  readonly metricsPort: number;
  readonly #o: ProxyDaemonOptions;
  #process: ResultPromise | null = null;
  readonly #lines: Record<string, unknown>[] = [];
  #stderr = "";
  #exited = false;
  #exitCode: number | undefined;

  private constructor(o: ProxyDaemonOptions, healthzPort: number, metricsPort: number) {
    this.#o = o;
    this.healthzPort = healthzPort;
    this.metricsPort = metricsPort;
  }

  static async start(o: ProxyDaemonOptions): Promise<ProxyDaemon> {
    const d = new ProxyDaemon(o, o.healthzPort ?? (await freePort()), await freePort());
    d.launch();
    return d;
  }

  args(): string[] {
    return [
      "--kubeconfig", this.#o.kubeconfig,
      "--hostname-override", this.#o.nodeName,
      "--iptables-netns", this.#o.netns,
      "--healthz-bind-address", `127.0.0.1:${this.healthzPort}`,
      "--metrics-bind-address", `127.0.0.1:${this.metricsPort}`,
      ...(this.#o.extraArgs ?? []),
    ];
  }

  /** Starts the program (again, after stop()). */
  launch(): void {
    const p = execa(bin, this.args(), {
      reject: false,
      stdin: "ignore",
      // execa's default SIGKILL after 5 s would hide a slow but clean exit on a loaded machine.
      forceKillAfterDelay: 60_000,
    });
    let buffer = "";
    p.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.#lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.#lines.push({ msg: line });
        }
        if (process.env["SIGNPOST_TEST_LOG"] !== undefined) process.stderr.write(`[proxy] ${line}\n`);
        nl = buffer.indexOf("\n");
      }
    });
    p.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#process = p;
    this.#exited = false;
    this.#exitCode = undefined;
    void p.then((r) => {
      this.#exitCode = r.exitCode ?? -1;
      this.#exited = true;
    });
  }

  /** The exit code once the program has exited by itself or been stopped (-1 for a signal); undefined while it runs. */
  exitCode(): number | undefined {
    return this.#exitCode;
  }

  get stderr(): string {
    return this.#stderr;
  }

  logs(): readonly Record<string, unknown>[] {
    return this.#lines;
  }

  /** Waits for a log line that satisfies the check, counting only lines after `after`. */
  async waitForLog(check: (line: Record<string, unknown>) => boolean, what: string, after = 0): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await eventually(() => {
      found = this.#lines.slice(after).find(check);
      if (found === undefined && this.#exited) throw new Error(`signpost-proxy exited: ${this.#stderr}`);
      return found !== undefined;
    }, what, 60_000);
    if (found === undefined) throw new Error(what);
    return found;
  }

  async get(port: number, path: string): Promise<{ status: number; body: string }> {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: await r.text() };
  }

  /**
   * Sends SIGTERM (or SIGKILL) and waits for the exit; returns its exit code, or the name of
   * the signal that ended it.
   */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number | string | undefined> {
    const p = this.#process;
    if (p === null) return undefined;
    if (!this.#exited) p.kill(signal);
    const r = await p;
    this.#process = null;
    return r.exitCode ?? r.signal;
  }
}

/**
 * Runs signpost-proxy once with these arguments (render, trace, --cleanup, --init-only) and
 * returns its output; with `netns`, inside that network namespace, as a pod on the node runs it.
 */
export async function runProxyCommand(args: readonly string[], options: { input?: string; netns?: string } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(options.netns === undefined ? bin : "ip", options.netns === undefined ? args : ["netns", "exec", options.netns, bin, ...args], { reject: false, ...(options.input === undefined ? {} : { input: options.input }) });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
