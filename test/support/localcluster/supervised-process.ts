// Starts a long-running binary (etcd, kube-apiserver, ...) in a process group of its own, with
// its output in a log file, and guarantees it is gone when stopped or when this process exits,
// so a failed or interrupted test leaves nothing running.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { LocalClusterError } from "./cluster-error.ts";

const live = new Set<SupervisedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a SIGKILL to each group is.
  process.on("exit", () => {
    for (const p of live) p.killNow();
  });
}

export interface SupervisedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export class SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #running = true;

  constructor(options: SupervisedProcessOptions) {
    installExitHook();
    this.name = options.name;
    this.logFile = options.logFile;
    const fd = openSync(options.logFile, "a");
    try {
      this.#child = spawn(options.command, [...options.args], {
        detached: true,
        stdio: ["ignore", fd, fd],
        env: { ...process.env, ...options.env },
        cwd: options.cwd,
      });
    } finally {
      closeSync(fd);
    }
    this.#exited = new Promise((resolve) => {
      this.#child.once("exit", (code) => {
        this.#running = false;
        live.delete(this);
        resolve(code);
      });
      this.#child.once("error", () => {
        this.#running = false;
        live.delete(this);
        resolve(null);
      });
    });
    live.add(this);
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  /** SIGTERM to the group, SIGKILL after graceMs; resolves once the process has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.#running) return;
    this.#signalGroup("SIGTERM");
    const timer = setTimeout(() => this.#signalGroup("SIGKILL"), graceMs);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
    // Children of the binary, if any, share its group.
    this.#signalGroup("SIGKILL");
  }

  /** SIGKILL, as a crash would be. Resolves once the process has exited. */
  async kill(): Promise<void> {
    this.killNow();
    await this.#exited;
  }

  killNow(): void {
    this.#signalGroup("SIGKILL");
  }

  /** Sends a signal to the process's group and returns at once (fault tests: SIGTERM, SIGKILL). */
  signal(signal: NodeJS.Signals): void {
    this.#signalGroup(signal);
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}

export function processFailed(p: SupervisedProcess, what: string): LocalClusterError {
  return new LocalClusterError(p.name, `${what}; last lines of ${p.logFile}:\n${p.tail()}`);
}
