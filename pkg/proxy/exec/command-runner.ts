// Runs the binaries the proxy drives (iptables-restore, iptables, conntrack, sysctl) through
// execa: no shell, arguments as an array, input on stdin. An optional prefix runs them in
// another network namespace (`ip netns exec NAME`), which is how tests point a daemon at a
// namespace they made; it is a list of words too, never a shell string.
import { execa } from "execa";

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  /** Written to the command's stdin. */
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** The one way the proxy starts a process; tests hand in a fake. */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult>;
}

/** The words that run a command inside a network namespace. */
export function netnsPrefix(name: string): readonly string[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`not a network namespace name: ${JSON.stringify(name)}`);
  return ["ip", "netns", "exec", name];
}

export class ExecaRunner implements CommandRunner {
  readonly #prefix: readonly string[];

  constructor(prefix: readonly string[] = []) {
    this.#prefix = prefix;
  }

  async run(command: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    const [file, ...rest] = [...this.#prefix, command, ...args];
    if (file === undefined) throw new Error("empty command");
    const r = await execa(file, rest, {
      reject: false,
      stripFinalNewline: false,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 512 * 1024 * 1024,
      ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    });
    if (r.failed && r.exitCode === undefined) {
      // Not started, killed or timed out: there is no exit code to interpret.
      return { exitCode: -1, stdout: String(r.stdout ?? ""), stderr: r.shortMessage ?? "failed to run" };
    }
    return { exitCode: r.exitCode ?? 0, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
  }
}
