// A real upstream DNS server for forwarding tests: Debian's dnsmasq, serving a small test zone
// from its own records (no upstream of its own), in a network namespace of the test's making,
// reached from the test's namespace over a veth pair. It answers on port 53, as a resolv.conf
// nameserver must.
import { randomInt } from "node:crypto";
import type { ResultPromise } from "execa";
import { link, NetNs } from "./netns.ts";

export interface DnsmasqOptions {
  /** dnsmasq options for the zone, e.g. "--host-record=www.example.test,192.0.2.10". */
  readonly records: readonly string[];
}

export class Dnsmasq {
  readonly ns: NetNs;
  /** The upstream's address, reachable from the test's namespace. */
  readonly address: string;
  /** The test namespace's end of the link. */
  readonly localAddress: string;
  readonly #process: ResultPromise;
  readonly #output: string[] = [];

  private constructor(ns: NetNs, address: string, localAddress: string, process: ResultPromise) {
    this.ns = ns;
    this.address = address;
    this.localAddress = localAddress;
    this.#process = process;
    process.stderr?.on("data", (chunk: Buffer) => this.#output.push(chunk.toString()));
  }

  static async start(options: DnsmasqOptions): Promise<Dnsmasq> {
    const ns = await NetNs.create("dnsmasq");
    const subnet = `10.231.${randomInt(256)}.${randomInt(64) * 4}`;
    const base = subnet.slice(0, subnet.lastIndexOf(".") + 1);
    const last = Number(subnet.slice(subnet.lastIndexOf(".") + 1));
    const address = `${base}${last + 2}`;
    const localAddress = `${base}${last + 1}`;
    await link(ns, `${address}/30`, null, `${localAddress}/30`);
    const child = ns.spawn("dnsmasq", [
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--pid-file",
      "--user=root",
      "--bind-interfaces",
      `--listen-address=${address}`,
      "--port=53",
      "--log-queries",
      "--log-facility=-",
      // dnsmasq gives its own records TTL 0 by default, which no cache keeps.
      "--local-ttl=30",
      ...options.records,
    ]);
    const dnsmasq = new Dnsmasq(ns, address, localAddress, child);
    const deadline = Date.now() + 10_000;
    while (!dnsmasq.log.includes("started, version")) {
      if (Date.now() > deadline) throw new Error(`dnsmasq did not start: ${dnsmasq.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return dnsmasq;
  }

  /** dnsmasq's log so far: with --log-queries, one "query[A] name from client" line per query. */
  get log(): string {
    return this.#output.join("");
  }

  /** How many queries for `name` reached dnsmasq. */
  queriesFor(name: string): number {
    return this.log.split("\n").filter((l) => l.includes("query[") && l.includes(` ${name} from`)).length;
  }

  async stop(): Promise<void> {
    this.#process.kill("SIGKILL");
    await this.#process;
    await this.ns.destroy();
  }
}
