// Bad input aimed at a running signpost-dns: over 100,000 hostile UDP datagrams and a
// set of hostile TCP streams (fuzzed frames, random bytes, byte-by-byte and never-completed
// frames, lengths 0 and 65535), sent as fast as this client can. Afterwards the process must
// be alive, its memory back near where it started, and dig answered correctly over UDP and TCP.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { render } from "../../pkg/dns/testing/messages.ts";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { FUZZ_KINDS, fuzzCorpus, tcpFrame, wireQuery, type FuzzCorpus, type FuzzKind } from "../support/dns-fuzz.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, endpointSlice, service } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const dir = mkdtempSync(join(tmpdir(), "dns-fuzz-"));
const upstreamConf = join(dir, "resolv.conf");
writeFileSync(upstreamConf, "nameserver 127.0.0.1\n");

const UDP_DATAGRAMS = 100_000;
const WARM_UP_DATAGRAMS = 20_000;
const TCP_FUZZ_STREAMS = 16;
const TCP_FRAMES_PER_STREAM = 1_500;
const TCP_RANDOM_STREAMS = 16;
const HELD_CONNECTIONS = 32;
/** Generous on purpose: the answer cache alone may keep 15 MiB of answers to fuzzed names. */
const RSS_SLACK = 64 * 1024 * 1024;
const SEED = Number(process.env["SIGNPOST_FUZZ_SEED"] ?? Date.now() % 0x7fffffff);
const TYPE_A = 1;

let ns = "";
let webIP = "";
let daemon: DnsDaemonProcess;
let upstream: UdpSocket;
let upstreamQueries = 0;
let startRss = 0;
let baselineRss = 0;
let names: string[] = [];
const fqdn = (name: string) => `${name}.${ns}.svc.cluster.local`;

/**
 * The upstream the daemon forwards to, on 127.0.0.1:53 of this test's network namespace: it
 * answers every query at once with NXDOMAIN, so forwarded fuzz never waits on a timeout.
 */
async function startUpstream(): Promise<UdpSocket> {
  const socket = createSocket("udp4");
  socket.on("message", (message, rinfo) => {
    upstreamQueries++;
    if (message.length < 12) return;
    const reply = Buffer.from(message);
    reply[2] = (reply[2] ?? 0) | 0x80;
    reply[3] = 0x83;
    reply.writeUInt16BE(0, 10);
    const end = reply.length - 11; // the forwarder's query ends in its OPT record
    socket.send(end > 12 ? reply.subarray(0, end) : reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(53, "127.0.0.1", () => resolve());
  });
  return socket;
}

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnsfuzz");
  webIP = (await c.core.createNamespacedService({ namespace: ns, body: service(ns, "web") })).spec?.clusterIP ?? "";
  await c.core.createNamespacedService({ namespace: ns, body: service(ns, "db", 5432, { clusterIP: "None" }) });
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: endpointSlice(ns, "db-1", "db", ["10.244.9.1", "10.244.9.2"]) });
  upstream = await startUpstream();
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", upstreamConf]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(async () => (await dig("127.0.0.1", daemon.ports.dns, "+notcp", fqdn("db"), "A")).answer.length === 2, "the objects are served");
  names = [
    fqdn("web"),
    fqdn("db"),
    `_http._tcp.${fqdn("web")}`,
    `10-244-9-1.${fqdn("db")}`,
    `${ns}.svc.cluster.local`,
    fqdn("missing"),
    `10-244-9-1.${ns}.pod.cluster.local`,
    "dns-version.cluster.local",
    "cluster.local",
    "web.svc.cluster.local",
    `${webIP.split(".").reverse().join(".")}.in-addr.arpa`,
    "www.example.org",
    "",
  ];
  // The baseline is taken after a warm-up at the fuzz's own pace, so that it includes what V8
  // sizes its heap to under that load (a one-time growth, mostly of the young generation).
  startRss = daemon.rssBytes();
  await sendUdp(fuzzCorpus(SEED ^ 0x5a5a, names), WARM_UP_DATAGRAMS);
  await sleep(500);
  baselineRss = daemon.rssBytes();
});

afterAll(async () => {
  await daemon?.kill();
  upstream?.close();
  await c.core.deleteNamespace({ name: ns });
});

interface UdpRun {
  readonly sent: number;
  readonly failed: number;
  /** Responses to the fuzz, besides the probes' answers. */
  readonly answered: number;
  /** Probes that got no answer within their wait: datagrams the daemon did not get to. */
  readonly probesLost: number;
  readonly byKind: Map<FuzzKind, number>;
}

const BURST = 100;

/**
 * Sends `count` corpus datagrams as fast as the daemon takes them: a burst of 100, then a valid
 * probe query, and the next burst as soon as the probe is answered (or after 1 s, when it was
 * dropped), so the daemon's socket buffer is not simply overrun and most datagrams reach it.
 */
async function sendUdp(corpus: FuzzCorpus, count: number): Promise<UdpRun> {
  const socket = createSocket("udp4");
  let answered = 0;
  let probeId = -1;
  let probeAnswered: (() => void) | null = null;
  socket.on("message", (message) => {
    if (message.length >= 12 && message.readUInt16BE(0) === probeId && probeAnswered !== null) probeAnswered();
    else answered++;
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const send = (message: Buffer) =>
    new Promise<boolean>((resolve) => socket.send(message, daemon.ports.dns, "127.0.0.1", (err) => resolve(err === null || err === undefined)));
  const byKind = new Map<FuzzKind, number>();
  let sent = 0;
  let failed = 0;
  let probesLost = 0;
  for (let burst = 0; sent + failed < count; burst++) {
    const messages: Promise<boolean>[] = [];
    for (let i = 0; i < BURST && sent + failed + messages.length < count; i++) {
      const { kind, message } = corpus.next();
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      messages.push(send(message));
    }
    for (const ok of await Promise.all(messages)) {
      if (ok) sent++;
      else failed++;
    }
    probeId = burst & 0xffff;
    const probed = new Promise<boolean>((resolve) => {
      probeAnswered = () => resolve(true);
      setTimeout(() => resolve(false), 1000);
    });
    await send(wireQuery(fqdn("web"), TYPE_A, { id: probeId }));
    if (!(await probed)) probesLost++;
    probeAnswered = null;
  }
  await sleep(200); // late answers are counted, not required
  socket.close();
  return { sent, failed, answered, probesLost, byKind };
}

/** A TCP connection to the daemon that collects the DNS messages it receives. */
class TcpClient {
  readonly socket: Socket;
  readonly replies: Buffer[] = [];
  readonly closed: Promise<void>;
  #buffered = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 2 && this.#buffered.length >= 2 + this.#buffered.readUInt16BE(0)) {
        const length = this.#buffered.readUInt16BE(0);
        this.replies.push(Buffer.from(this.#buffered.subarray(2, 2 + length)));
        this.#buffered = this.#buffered.subarray(2 + length);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.once("close", () => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static open(port: number): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(new TcpClient(socket)));
      socket.once("error", reject);
    });
  }

  /**
   * The reply to `query` (no EDNS): its ID and its question, as a resolver matches them. The ID
   * alone is not enough: a fuzzed frame on the same connection may carry the same 16-bit ID and
   * get its own answer (NOTIMP, FORMERR) first. Fails if the connection closes or 30 s pass.
   */
  async replyTo(query: Buffer): Promise<Buffer> {
    const id = query.readUInt16BE(0);
    const question = query.subarray(12);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = this.replies.find((r) => r.length >= 12 + question.length && r.readUInt16BE(0) === id && r.subarray(12, 12 + question.length).equals(question));
      if (found !== undefined) return found;
      if (this.socket.destroyed || Date.now() > deadline) throw new Error(`no reply with ID ${id} on this connection`);
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)), sleep(1000)]);
    }
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }
}

/** Queries the daemon has read, by its own coredns_dns_requests_total. */
async function requestsCounted(): Promise<number> {
  const { body } = await daemon.http("metrics");
  return [...body.matchAll(/^coredns_dns_requests_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

function expectWebAnswer(reply: Buffer, id: number): void {
  const rendered = render(reply);
  expect(rendered.id).toBe(id);
  expect(rendered.rcode).toBe(0);
  expect(rendered.answer).toEqual([`${fqdn("web")} A ${webIP}`]);
}

describe("signpost-dns under bad input", () => {
  it(`survives ${UDP_DATAGRAMS} fuzzed datagrams and hostile TCP streams, then answers correctly with its memory back near its baseline`, async () => {
    console.error(`[dns-fuzz] seed ${SEED} (SIGNPOST_FUZZ_SEED=${SEED} replays it); RSS ${(startRss / 2 ** 20).toFixed(1)} MiB at start, ${(baselineRss / 2 ** 20).toFixed(1)} MiB after ${WARM_UP_DATAGRAMS} warm-up datagrams (the baseline)`);

    // Connections that stop inside a frame, held open for the whole run: one with half a
    // length prefix, one with a length of 256 and ten bytes of it.
    const held = await Promise.all(Array.from({ length: HELD_CONNECTIONS }, () => TcpClient.open(daemon.ports.dns)));
    await Promise.all(held.map((client, i) => client.write(i % 2 === 0 ? Buffer.from([0x00]) : Buffer.concat([Buffer.from([0x01, 0x00]), Buffer.alloc(10, 7)]))));

    const readBefore = await requestsCounted();
    const udp = await sendUdp(fuzzCorpus(SEED, names), UDP_DATAGRAMS);
    const read = (await requestsCounted()) - readBefore;
    console.error(
      `[dns-fuzz] UDP: ${udp.sent} datagrams sent (${udp.failed} send errors), ${udp.answered} answered, ${udp.probesLost} of ${Math.ceil(UDP_DATAGRAMS / BURST)} probes lost; the daemon read ${read} datagrams; by kind: ${FUZZ_KINDS.map((k) => `${k} ${udp.byKind.get(k) ?? 0}`).join(", ")}`,
    );
    expect(udp.sent).toBeGreaterThanOrEqual(UDP_DATAGRAMS - udp.failed);
    expect(udp.sent).toBeGreaterThanOrEqual(UDP_DATAGRAMS * 0.99);
    // Paced by the probes, nearly every datagram reaches the daemon, not just its socket buffer.
    expect(read).toBeGreaterThanOrEqual(UDP_DATAGRAMS * 0.9);
    expect(daemon.alive).toBe(true);

    // Fuzzed frames pipelined on many connections, each ending with a valid query that must be
    // answered on the same connection after everything before it.
    const tcpCorpus = fuzzCorpus(SEED + 1, names);
    let tcpFrames = 0;
    await Promise.all(
      Array.from({ length: TCP_FUZZ_STREAMS }, async (_, s) => {
        const client = await TcpClient.open(daemon.ports.dns);
        for (let batch = 0; batch < TCP_FRAMES_PER_STREAM / 100; batch++) {
          const frames = Array.from({ length: 100 }, () => tcpFrame(tcpCorpus.next().message));
          tcpFrames += frames.length;
          await client.write(Buffer.concat(frames));
        }
        const id = 0x7000 + s;
        const query = wireQuery(fqdn("web"), TYPE_A, { id });
        await client.write(tcpFrame(query));
        expectWebAnswer(await client.replyTo(query), id);
        client.socket.destroy();
      }),
    );

    // Streams of random bytes, whatever lengths they happen to spell, then a half-close.
    const random = seededRandom(SEED + 2);
    let randomBytes = 0;
    await Promise.all(
      Array.from({ length: TCP_RANDOM_STREAMS }, async () => {
        const client = await TcpClient.open(daemon.ports.dns);
        const bytes = Buffer.allocUnsafe(64 * 1024);
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
        randomBytes += bytes.length;
        await client.write(bytes);
        client.socket.end();
        await Promise.race([client.closed, sleep(15_000)]);
        client.socket.destroy();
      }),
    );

    // A valid query one byte at a time.
    const slow = await TcpClient.open(daemon.ports.dns);
    const slowQuery = wireQuery(fqdn("web"), TYPE_A, { id: 0x7101 });
    for (const byte of tcpFrame(slowQuery)) {
      await slow.write(Buffer.from([byte]));
      await tick();
    }
    expectWebAnswer(await slow.replyTo(slowQuery), 0x7101);
    slow.socket.destroy();

    // A frame of length 0, then a valid one: nothing is said to the first, the second is answered.
    const empty = await TcpClient.open(daemon.ports.dns);
    const afterEmpty = wireQuery(fqdn("web"), TYPE_A, { id: 0x7102 });
    await empty.write(Buffer.concat([tcpFrame(Buffer.alloc(0)), tcpFrame(afterEmpty)]));
    expectWebAnswer(await empty.replyTo(afterEmpty), 0x7102);
    empty.socket.destroy();

    // Frames of length 65535: random bytes, and a valid query padded with zeros, then a valid one.
    const largest = await TcpClient.open(daemon.ports.dns);
    const noise = Buffer.allocUnsafe(65535);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
    const padded = Buffer.alloc(65535);
    wireQuery(fqdn("web"), TYPE_A, { id: 0x7103 }).copy(padded);
    const afterLargest = wireQuery(fqdn("web"), TYPE_A, { id: 0x7104 });
    await largest.write(Buffer.concat([tcpFrame(noise), tcpFrame(padded), tcpFrame(afterLargest)]));
    expectWebAnswer(await largest.replyTo(afterLargest), 0x7104);
    largest.socket.destroy();

    console.error(
      `[dns-fuzz] TCP: ${tcpFrames} fuzzed frames on ${TCP_FUZZ_STREAMS} connections, ${randomBytes} random bytes on ${TCP_RANDOM_STREAMS}, byte-by-byte, length 0 and 65535 frames; ${HELD_CONNECTIONS} connections held mid-frame; upstream saw ${upstreamQueries} queries`,
    );

    // Served while those connections still sit mid-frame.
    expect(daemon.alive).toBe(true);
    for (const transport of ["+notcp", "+tcp"]) {
      const web = await dig("127.0.0.1", daemon.ports.dns, transport, fqdn("web"), "A");
      expect(web.answer).toEqual([`${fqdn("web")}. A ${webIP}`]);
      const db = await dig("127.0.0.1", daemon.ports.dns, transport, fqdn("db"), "A");
      expect(db.answer).toEqual([`${fqdn("db")}. A 10.244.9.1`, `${fqdn("db")}. A 10.244.9.2`]);
      expect((await dig("127.0.0.1", daemon.ports.dns, transport, fqdn("missing"), "A")).status).toBe("NXDOMAIN");
    }
    const closedByServer = held.filter((client) => client.socket.destroyed || client.socket.readableEnded).length;
    for (const client of held) client.socket.destroy();

    // Memory: garbage of the run is collected on the daemon's own schedule; wait for it.
    let rss = daemon.rssBytes();
    await eventually(() => (rss = daemon.rssBytes()) < baselineRss + RSS_SLACK, `RSS below baseline + 64 MiB (now ${rss})`, 30_000);
    console.error(
      `[dns-fuzz] after: alive, RSS ${(rss / 2 ** 20).toFixed(1)} MiB (baseline ${(baselineRss / 2 ** 20).toFixed(1)} MiB); ${closedByServer} of ${HELD_CONNECTIONS} held connections closed by the server (read deadline or idle timeout)`,
    );
    expect(daemon.alive).toBe(true);
    const errors = daemon.lines.filter((l) => typeof l["level"] === "number" && l["level"] >= 50);
    expect(errors).toEqual([]);
    expect(daemon.stderr.join("")).toBe("");
  });
});
