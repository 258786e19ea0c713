// Real upstream DNS servers for forwarding tests. Dnsmasq: Debian's dnsmasq, serving a small
// test zone from its own records (no upstream of its own), in a network namespace of the test's
// making, reached from the test's namespace over a veth pair. LoopbackUpstream: a small UDP
// server on a loopback address of the test's namespace that records what it is asked (source
// port, DO, CD) and answers every A query, or relays every query to another server (a second
// resolver, to make a loop). Both answer on port 53, as a resolv.conf nameserver must.
import { randomInt } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { ResultPromise } from "execa";
import { decodeQuery } from "../../pkg/dns/query-decode.ts";
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

/** A query as a LoopbackUpstream received it. */
export interface ReceivedQuery {
  /** As on the wire, case kept, without the trailing dot. */
  readonly name: string;
  readonly qtype: number;
  readonly id: number;
  readonly dnssecOk: boolean;
  readonly checkingDisabled: boolean;
  /** The source address and port it came from. */
  readonly from: string;
  readonly port: number;
}

export interface LoopbackUpstreamOptions {
  /** The address of each A answer for `name` (lower-case); 192.0.2.1 when not given. */
  readonly address?: (name: string) => string;
  /** Runs before each answer is sent (awaited), with the query as received: a forger's turn to race the answer. */
  readonly beforeAnswer?: (query: ReceivedQuery, upstream: LoopbackUpstream) => void | Promise<void>;
  /** Relays every query to this server instead of answering it, and its answer back. */
  readonly relayTo?: () => { readonly address: string; readonly port: number } | null;
}

export class LoopbackUpstream {
  readonly address: string;
  readonly port: number;
  readonly queries: ReceivedQuery[] = [];
  readonly #socket: Socket;

  private constructor(socket: Socket, address: string) {
    this.#socket = socket;
    this.address = address;
    this.port = socket.address().port;
  }

  /** Listens on `address` port 53 (or `port`). */
  static async start(address: string, options: LoopbackUpstreamOptions = {}, port = 53): Promise<LoopbackUpstream> {
    // A test's flood must not be lost here, at the upstream, rather than in signpost-dns.
    const socket = createSocket({
      type: isIPv6(address) ? "udp6" : "udp4",
      recvBufferSize: 4 << 20,
      // Peers are IP literals: without dgram's resolver step, a send leaves at once, in order.
      lookup: (host, _options, callback) => callback(null, host, isIPv6(host) ? 6 : 4),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, address, () => resolve());
    });
    const upstream = new LoopbackUpstream(socket, address);
    socket.on("message", (message, rinfo) => void upstream.#handle(message, rinfo, options));
    return upstream;
  }

  /** Sends `message` from this server's own address and port: what a spoofer off the path forges. */
  sendFrom(message: Buffer, port: number, address: string): void {
    this.#socket.send(message, port, address);
  }

  async #handle(message: Buffer, rinfo: RemoteInfo, options: LoopbackUpstreamOptions): Promise<void> {
    const decoded = decodeQuery(message);
    if (!decoded.ok) return;
    const query = decoded.query;
    const received: ReceivedQuery = {
      name: readName(message),
      qtype: query.qtype,
      id: query.id,
      dnssecOk: query.edns?.dnssecOk ?? false,
      checkingDisabled: query.cd,
      from: rinfo.address,
      port: rinfo.port,
    };
    this.queries.push(received);
    if (options.relayTo !== undefined) {
      const target = options.relayTo();
      if (target !== null) relay(message, target, (answer) => this.#socket.send(answer, rinfo.port, rinfo.address));
      return;
    }
    await options.beforeAnswer?.(received, this);
    const address = query.qtype === 1 ? (options.address?.(query.name) ?? "192.0.2.1") : null;
    this.#socket.send(answerA(message, query.questionEnd, query.id, address), rinfo.port, rinfo.address);
  }

  /** How many queries for `name` (any case) arrived. */
  queriesFor(name: string): number {
    return this.queries.filter((q) => q.name.toLowerCase() === name.toLowerCase()).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/**
 * A response to the query in `message` (question ending at `questionEnd`) with `id`: one A
 * record for `address`, or NOERROR with no record when it is null.
 */
export function answerA(message: Buffer, questionEnd: number, id: number, address: string | null): Buffer {
  const record = Buffer.alloc(address === null ? 0 : 16);
  if (address !== null) {
    record.writeUInt16BE(0xc00c, 0);
    record.writeUInt16BE(1, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(30, 6);
    record.writeUInt16BE(4, 10);
    address.split(".").forEach((octet, i) => (record[12 + i] = Number(octet)));
  }
  const out = Buffer.concat([message.subarray(0, questionEnd), record]);
  out.writeUInt16BE(id, 0);
  out[2] = 0x81; // QR, RD
  out[3] = 0x80; // RA
  out.writeUInt16BE(address === null ? 0 : 1, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

function readName(message: Buffer): string {
  const labels: string[] = [];
  for (let at = 12; message[at] !== undefined && message[at] !== 0; at += (message[at] ?? 0) + 1) {
    labels.push(message.subarray(at + 1, at + 1 + (message[at] ?? 0)).toString("latin1"));
  }
  return labels.join(".");
}

/** Sends `message` to `target` from a socket of its own and hands its first answer to `reply`; gives up after 5 s. */
function relay(message: Buffer, target: { readonly address: string; readonly port: number }, reply: (answer: Buffer) => void): void {
  const socket = createSocket(isIPv6(target.address) ? "udp6" : "udp4");
  const timer = setTimeout(() => socket.close(), 5000);
  socket.on("error", () => {});
  socket.once("message", (answer) => {
    clearTimeout(timer);
    socket.close();
    reply(answer);
  });
  socket.send(message, target.port, target.address);
}
