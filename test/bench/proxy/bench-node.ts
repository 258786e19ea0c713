// The node a contestant runs on, made fresh for every run so no rule, conntrack entry or sysctl
// of one contestant is seen by the next: a network namespace linked to the harness's (where the
// API server listens on API_ADDRESS), with two pod namespaces routed through it: a client, where
// the first-connection prober runs, and a backend running the echo server on port 8080. Cluster
// IPs without rules are unreachable in the node, so a probe fails fast until its rule exists and
// no packet ever leaves these namespaces.
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { link, NetNs } from "../../support/netns.ts";
import { SERVICE_CIDR } from "./cluster-objects.ts";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const echoServer = here("./echo-backend.ts");
const proberScript = here("./first-connection-prober.ts");
const directProbe = here("../../support/proxy-probe.ts");

/** The API server's address, on the harness namespace's loopback. */
export const API_ADDRESS = "172.31.255.1";
export const NODE_IP = "192.168.50.1";
export const CLUSTER_CIDR = "10.244.0.0/16";
export const CLIENT_POD_IP = "10.244.1.2";
export const BACKEND_POD_IP = "10.244.2.2";
export const BACKEND_PORT = 8080;

async function ip(...args: string[]): Promise<void> {
  await execa("ip", args);
}

/**
 * Refuses to run outside a namespace of our own (hack/bench.sh runs this script in one with only
 * loopback), then gives its loopback the API server's address.
 */
export async function prepareHarnessNamespace(): Promise<void> {
  const links = (await execa("ip", ["-o", "link", "show"])).stdout.split("\n").filter((l) => l.trim() !== "");
  const names = links.map((l) => (l.split(":")[1] ?? "").trim().split("@")[0] ?? "");
  if (names.some((n) => n !== "lo")) {
    throw new Error(`the proxy bench must run in a network namespace with only loopback (hack/bench.sh does that); this one has: ${names.join(", ")}`);
  }
  await ip("link", "set", "lo", "up");
  await ip("addr", "add", `${API_ADDRESS}/32`, "dev", "lo");
}

export async function releaseHarnessNamespace(): Promise<void> {
  await execa("ip", ["addr", "del", `${API_ADDRESS}/32`, "dev", "lo"], { reject: false });
}

export interface ProbeResult {
  readonly okAtMs?: number;
  /** The start of the last attempt that failed before okAtMs. */
  readonly lastFailedAtMs?: number;
  readonly error?: string;
  readonly attempts: number;
}

let nodesMade = 0;

export class BenchNode {
  readonly node: NetNs;
  /** The node's address on its link to the harness: where the daemons serve /metrics. */
  readonly linkAddress: string;
  readonly #namespaces: NetNs[];
  readonly #processes: ResultPromise[] = [];
  /** How each of #processes ended, null while it runs. */
  readonly #exits: (string | null)[] = [];
  #prober: ResultPromise | null = null;
  #proberBuffer = "";
  #proberWaiters: ((line: string) => void)[] = [];
  #nextProbe = 0;

  private constructor(node: NetNs, linkAddress: string, namespaces: NetNs[]) {
    this.node = node;
    this.linkAddress = linkAddress;
    this.#namespaces = namespaces;
  }

  static async create(): Promise<BenchNode> {
    const index = (nodesMade++ % 250) + 1;
    const node = await NetNs.create("node");
    const namespaces = [node];
    const linkAddress = `172.30.${index}.2`;
    const b = new BenchNode(node, linkAddress, namespaces);
    try {
      await node.run("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
      await link(node, `${linkAddress}/24`, null, `172.30.${index}.1/24`);
      await node.run("ip", ["route", "add", `${API_ADDRESS}/32`, "via", `172.30.${index}.1`]);
      await node.run("ip", ["addr", "add", `${NODE_IP}/32`, "dev", "lo"]);
      await node.run("ip", ["route", "add", "unreachable", SERVICE_CIDR]);
      for (const [label, podIP] of [["client", CLIENT_POD_IP], ["backend", BACKEND_POD_IP]] as const) {
        const pod = await NetNs.create(label);
        namespaces.push(pod);
        const gateway = podIP.replace(/\.2$/, ".1");
        await link(pod, `${podIP}/24`, node, `${gateway}/24`);
        await pod.run("ip", ["route", "add", "default", "via", gateway]);
      }
      await b.#startEcho();
      b.#startProber();
    } catch (err) {
      await b.destroy();
      throw err;
    }
    return b;
  }

  get clientNs(): NetNs {
    return this.#namespaces[1] ?? this.node;
  }

  get backendNs(): NetNs {
    return this.#namespaces[2] ?? this.node;
  }

  async #startEcho(): Promise<void> {
    const p = execa("ip", ["netns", "exec", this.backendNs.name, process.execPath, echoServer, String(BACKEND_PORT)], { reject: false, stdin: "ignore" });
    this.#track(p);
    await new Promise<void>((resolve, reject) => {
      p.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      void p.then((r) => reject(new Error(`echo server exited: ${String(r.stderr)}`)));
    });
  }

  #track(p: ResultPromise): void {
    const i = this.#processes.push(p) - 1;
    this.#exits[i] = null;
    void p.then((r) => {
      this.#exits[i] = `exited ${String(r.exitCode)}: ${String(r.stderr).slice(-300)}`;
    });
  }

  #startProber(): void {
    const p = execa("ip", ["netns", "exec", this.clientNs.name, process.execPath, proberScript], { reject: false, stdin: "pipe" });
    this.#track(p);
    p.stdout?.on("data", (chunk: Buffer) => {
      this.#proberBuffer += chunk.toString();
      let nl = this.#proberBuffer.indexOf("\n");
      while (nl >= 0) {
        const line = this.#proberBuffer.slice(0, nl);
        this.#proberBuffer = this.#proberBuffer.slice(nl + 1);
        this.#proberWaiters.shift()?.(line);
        nl = this.#proberBuffer.indexOf("\n");
      }
    });
    this.#prober = p;
  }

  /** Connects from the client pod to host:port until it works; the wall time it first did. */
  async firstConnection(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
    const p = this.#prober;
    if (p === null) throw new Error("no prober");
    const answer = new Promise<string>((resolve) => this.#proberWaiters.push(resolve));
    p.stdin?.write(`${JSON.stringify({ id: this.#nextProbe++, host, port, timeoutMs })}\n`);
    return JSON.parse(await answer) as ProbeResult;
  }

  /** What the node shows about a probe that never connected, for the report's problems. */
  async diagnose(clusterIP: string): Promise<string> {
    const direct = await execa("ip", ["netns", "exec", this.clientNs.name, process.execPath, directProbe, "tcp", BACKEND_POD_IP, String(BACKEND_PORT), "1", "1000"], { reject: false });
    const rules = await execa("ip", ["netns", "exec", this.node.name, "sh", "-c", `{ iptables-save; nft list ruleset; } 2>/dev/null | grep -c -F '${clusterIP}'`], { reject: false });
    const alive = this.#exits.map((e) => e ?? "running").join("/");
    return `direct to the backend: ${String(direct.stdout).trim()}; rule lines naming ${clusterIP}: ${String(rules.stdout).trim()}; echo/prober: ${alive}`;
  }

  /** Runs a command in the node namespace and returns its stdout. */
  async run(command: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
    return this.node.run(command, args, { timeoutMs });
  }

  async destroy(): Promise<void> {
    for (const p of this.#processes) p.kill("SIGKILL");
    for (const ns of [...this.#namespaces].reverse()) await ns.destroy();
  }
}
