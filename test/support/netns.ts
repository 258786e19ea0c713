// Network namespaces for integration tests: "hosts" made by the test itself, linked with veth
// pairs, so real clients, servers and netfilter can be exercised without a packet leaving the
// machine. Every name carries the run's prefix (SIGNPOST_RUN, set by hack/test.sh), so the
// harness's sweep removes whatever a crashed test left behind; destroy() removes it at once.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { execa, type ResultPromise } from "execa";

const runPrefix = process.env["SIGNPOST_RUN"] ?? "signpost-dev";

async function ip(...args: string[]): Promise<void> {
  await execa("ip", args);
}

export class NetNs {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** A new namespace with loopback up; `label` makes the name readable in `ip netns list`. */
  static async create(label: string): Promise<NetNs> {
    const name = `${runPrefix}-${label}-${randomBytes(2).toString("hex")}`;
    await ip("netns", "add", name);
    await ip("-n", name, "link", "set", "lo", "up");
    return new NetNs(name);
  }

  /** Runs a command inside the namespace and returns its stdout; throws with stderr on failure. */
  async run(command: string, args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    const r = await execa("ip", ["netns", "exec", this.name, command, ...args], {
      timeout: options.timeoutMs ?? 30_000,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    return r.stdout;
  }

  /** Starts a long-running command inside the namespace; kill it with .kill(). */
  spawn(command: string, args: readonly string[]): ResultPromise {
    return execa("ip", ["netns", "exec", this.name, command, ...args], { reject: false, stdin: "ignore" });
  }

  /**
   * Writes /etc/netns/NAME/resolv.conf, which `ip netns exec` bind-mounts over /etc/resolv.conf,
   * so glibc clients (getent, curl) in this namespace use it.
   */
  async setResolvConf(text: string): Promise<void> {
    await mkdir(`/etc/netns/${this.name}`, { recursive: true });
    await writeFile(`/etc/netns/${this.name}/resolv.conf`, text);
  }

  async destroy(): Promise<void> {
    try {
      const pids = (await execa("ip", ["netns", "pids", this.name], { reject: false })).stdout.split("\n").filter((p) => p !== "");
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await execa("ip", ["netns", "del", this.name], { reject: false });
    } finally {
      await rm(`/etc/netns/${this.name}`, { recursive: true, force: true });
    }
  }
}

/**
 * Links two namespaces with a veth pair and gives each end an address (CIDR notation, e.g.
 * "10.99.0.1/24"). Pass null for `b` to put the other end in the namespace this process runs in.
 */
export async function link(a: NetNs, aAddress: string, b: NetNs | null, bAddress: string): Promise<{ aDev: string; bDev: string }> {
  const id = randomBytes(3).toString("hex");
  const aDev = `va${id}`;
  const bDev = `vb${id}`;
  await ip("link", "add", aDev, "type", "veth", "peer", "name", bDev);
  await ip("link", "set", aDev, "netns", a.name);
  if (b !== null) await ip("link", "set", bDev, "netns", b.name);
  await ip("-n", a.name, "addr", "add", aAddress, "dev", aDev);
  await ip("-n", a.name, "link", "set", aDev, "up");
  if (b !== null) {
    await ip("-n", b.name, "addr", "add", bAddress, "dev", bDev);
    await ip("-n", b.name, "link", "set", bDev, "up");
  } else {
    await ip("addr", "add", bAddress, "dev", bDev);
    await ip("link", "set", bDev, "up");
  }
  return { aDev, bDev };
}
