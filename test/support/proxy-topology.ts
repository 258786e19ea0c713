// A node for proxy integration tests, made of network namespaces: the node itself (where
// signpost-proxy programs netfilter), pods linked to it each by a veth pair on a /24 of their
// own (so every packet between pods is routed, and so seen by netfilter, in the node), and an
// "outside" namespace on the node's address network, with two addresses to tell clients apart.
// With { ipv6: true } every link is dual-stack (IPv6 addresses added without duplicate address
// detection, so they work at once). Nothing routes beyond these namespaces.
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { link, NetNs } from "./netns.ts";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const echoServer = here("./proxy-echo-server.ts");
const probeScript = here("./proxy-probe.ts");
const longClient = here("./proxy-long-client.ts");

export const clusterCIDR = "10.244.0.0/16";
export const nodeIP = "192.168.50.1";
export const outsideIP = "192.168.50.2";
export const otherOutsideIP = "192.168.50.3";
export const clusterCIDRv6 = "fd00:10:244::/48";
export const nodeIPv6 = "fd00:50::1";
export const outsideIPv6 = "fd00:50::2";

export interface Pod {
  readonly name: string;
  readonly ns: NetNs;
  readonly ip: string;
  /** fd00:10:244:INDEX::2 in a dual-stack topology, null otherwise. */
  readonly ipv6: string | null;
}

export interface TopologyOptions {
  readonly ipv6?: boolean;
}

async function addIPv6(ns: NetNs, dev: string, cidr: string): Promise<void> {
  await ns.run("ip", ["-6", "addr", "add", cidr, "dev", dev, "nodad"]);
}

export interface Outcome {
  readonly reply?: string;
  readonly error?: string;
}

export interface ProbeOptions {
  readonly count?: number;
  readonly timeoutMs?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

export class ProxyTopology {
  readonly node: NetNs;
  readonly outside: NetNs;
  readonly pods: Pod[] = [];
  readonly ipv6: boolean;
  readonly #servers: ResultPromise[] = [];

  private constructor(node: NetNs, outside: NetNs, ipv6: boolean) {
    this.node = node;
    this.outside = outside;
    this.ipv6 = ipv6;
  }

  static async create(label: string, options: TopologyOptions = {}): Promise<ProxyTopology> {
    const node = await NetNs.create(`${label}-node`);
    const outside = await NetNs.create(`${label}-out`);
    const t = new ProxyTopology(node, outside, options.ipv6 === true);
    try {
      await node.run("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
      const { aDev, bDev } = await link(outside, `${outsideIP}/24`, node, `${nodeIP}/24`);
      await outside.run("ip", ["addr", "add", `${otherOutsideIP}/24`, "dev", aDev]);
      await outside.run("ip", ["route", "add", "default", "via", nodeIP]);
      // The node's own traffic to a cluster IP needs a route before nat OUTPUT rewrites it.
      await node.run("ip", ["route", "add", "default", "via", outsideIP]);
      if (t.ipv6) {
        await node.run("sysctl", ["-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
        await addIPv6(outside, aDev, `${outsideIPv6}/64`);
        await addIPv6(node, bDev, `${nodeIPv6}/64`);
        await outside.run("ip", ["-6", "route", "add", "default", "via", nodeIPv6]);
        await node.run("ip", ["-6", "route", "add", "default", "via", outsideIPv6]);
      }
    } catch (err) {
      await t.destroy();
      throw err;
    }
    return t;
  }

  /** A pod namespace on 10.244.INDEX.2, its gateway the node at 10.244.INDEX.1. */
  async addPod(name: string, index: number): Promise<Pod> {
    const ns = await NetNs.create(`${name}`);
    const ip = `10.244.${index}.2`;
    const { aDev, bDev } = await link(ns, `${ip}/24`, this.node, `10.244.${index}.1/24`);
    await ns.run("ip", ["route", "add", "default", "via", `10.244.${index}.1`]);
    let ipv6: string | null = null;
    if (this.ipv6) {
      ipv6 = `fd00:10:244:${index}::2`;
      await addIPv6(ns, aDev, `${ipv6}/64`);
      await addIPv6(this.node, bDev, `fd00:10:244:${index}::1/64`);
      await ns.run("ip", ["-6", "route", "add", "default", "via", `fd00:10:244:${index}::1`]);
    }
    const pod = { name, ns, ip, ipv6 };
    this.pods.push(pod);
    return pod;
  }

  /**
   * Runs the echo server in a pod on port (TCP and UDP) and waits until it listens. Returns a
   * stop function, not the process: a promise for a process would wait for it to exit.
   */
  async serve(pod: Pod, port: number): Promise<() => void> {
    return this.serveIn(pod.ns, pod.name, port, pod.ipv6 === null ? "ipv4" : "ipv6");
  }

  /** The echo server in any namespace of the topology (the node's own, say), on one address if told. */
  async serveIn(ns: NetNs, name: string, port: number, families: "ipv4" | "ipv6" = "ipv4", host = "0.0.0.0"): Promise<() => void> {
    const args = [process.execPath, echoServer, name, String(port), families, host];
    const p = execa("ip", ["netns", "exec", ns.name, ...args], { reject: false, stdin: "ignore" });
    this.#servers.push(p);
    await new Promise<void>((resolve, reject) => {
      p.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      void p.then((r) => reject(new Error(`echo server ${name} exited: ${r.stderr}`)));
    });
    return () => void p.kill("SIGKILL");
  }

  /**
   * Makes the outside namespace send packets for 127.0.0.1 to the node, as a neighbour in
   * control of its own machine can (CVE-2020-8558): route_localnet on, and a rule that looks up
   * 127.0.0.1 before the local table does. The outside's own loopback is lost for that address.
   */
  async routeLoopbackToNode(): Promise<void> {
    const o = this.outside;
    await o.run("sysctl", ["-q", "-w", "net.ipv4.conf.all.route_localnet=1"]);
    await o.run("ip", ["rule", "add", "pref", "10", "to", "127.0.0.1/32", "lookup", "100"]);
    await o.run("ip", ["rule", "del", "pref", "0", "lookup", "local"]);
    await o.run("ip", ["rule", "add", "pref", "1000", "lookup", "local"]);
    await o.run("ip", ["route", "add", "127.0.0.1/32", "via", nodeIP, "src", outsideIP, "table", "100"]);
  }

  /** Connects COUNT times from a namespace and returns each outcome. */
  async probe(from: NetNs, proto: "tcp" | "udp", host: string, port: number, options: ProbeOptions = {}): Promise<Outcome[]> {
    const args = [probeScript, proto, host, String(port), String(options.count ?? 1), String(options.timeoutMs ?? 3000)];
    if (options.localAddress !== undefined || options.localPort !== undefined) args.push(options.localAddress ?? (host.includes(":") ? "::" : "0.0.0.0"));
    if (options.localPort !== undefined) args.push(String(options.localPort));
    const out = await from.run(process.execPath, args, { timeoutMs: 120_000 });
    return JSON.parse(out) as Outcome[];
  }

  /** A client holding one TCP connection open; send() a line and read the answer. */
  longClient(from: NetNs, host: string, port: number): LongClient {
    return new LongClient(execa("ip", ["netns", "exec", from.name, process.execPath, longClient, host, String(port)], { reject: false, stdin: "pipe" }));
  }

  async destroy(): Promise<void> {
    for (const s of this.#servers) s.kill("SIGKILL");
    for (const pod of this.pods) await pod.ns.destroy();
    await this.outside.destroy();
    await this.node.destroy();
  }
}

export class LongClient {
  readonly #p: ResultPromise;
  readonly #lines: string[] = [];
  #waiters: (() => void)[] = [];

  constructor(p: ResultPromise) {
    this.#p = p;
    let buffer = "";
    p.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        this.#lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
      }
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
    void p.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  /** The next line from the connection (or "closed" / "error ..." when it ended). */
  async next(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (Date.now() > deadline) throw new Error("no line from the long-lived connection");
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.#lines.shift() ?? "";
  }

  async send(line: string): Promise<string> {
    this.#p.stdin?.write(`${line}\n`);
    return this.next();
  }

  close(): void {
    this.#p.kill("SIGKILL");
  }
}

/** The names of the backends that answered, one per successful attempt. */
export function backends(outcomes: readonly Outcome[]): string[] {
  return outcomes.flatMap((o) => (o.reply === undefined ? [] : [o.reply.split(" ")[0] ?? ""]));
}
