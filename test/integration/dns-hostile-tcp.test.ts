// Hostile TCP clients aimed at a running signpost-dns, on real
// loopback sockets: clients that pipeline thousands of queries for a large answer and never
// read them, clients that drip-feed a query one byte at a time, and more connections than the
// caps allow. Through all of it the daemon's memory stays bounded and well-behaved dig clients,
// over TCP and UDP, get correct cluster answers.
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TYPE } from "../../pkg/dns/records.ts";
import { queryBytes, render } from "../../pkg/dns/testing/messages.ts";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, endpointSlice, service } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const dir = mkdtempSync(join(tmpdir(), "dns-hostile-tcp-"));
const upstream = join(dir, "resolv.conf");
// Only cluster names are asked; nothing is forwarded.
writeFileSync(upstream, "nameserver 127.0.0.1\n");

const MiB = 2 ** 20;
/** A headless Service this wide has an A answer of about 16 KB: 350 times its query. */
const WIDE_ENDPOINTS = 1000;
const ATTACK_CONNECTIONS = 4;
const QUERIES_PER_CONNECTION = 10_000;
/** The bound: well under the Deployment's 512 Mi limit. */
const RSS_BOUND = 256 * MiB;

let ns = "";
let webIP = "";
const fqdn = (name: string) => `${name}.${ns}.svc.cluster.local`;
const wideIPs = Array.from({ length: WIDE_ENDPOINTS }, (_, i) => `10.245.${Math.floor(i / 250)}.${(i % 250) + 1}`);

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnshostile");
  webIP = (await c.core.createNamespacedService({ namespace: ns, body: service(ns, "web") })).spec?.clusterIP ?? "";
  await c.core.createNamespacedService({ namespace: ns, body: service(ns, "wide", 80, { clusterIP: "None" }) });
  await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: endpointSlice(ns, "wide-1", "wide", wideIPs) });
});

afterAll(async () => {
  await c.core.deleteNamespace({ name: ns });
});

async function startDaemon(flags: readonly string[]): Promise<DnsDaemonProcess> {
  const daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", upstream, ...flags]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(
    async () => (await dig("127.0.0.1", daemon.ports.dns, "+tcp", fqdn("wide"), "A")).answer.length === WIDE_ENDPOINTS,
    "the wide Service is served",
  );
  return daemon;
}

/** The DNS message framed for TCP: its length in two bytes, then the message. */
function tcpFrame(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(2 + message.length);
  frame.writeUInt16BE(message.length, 0);
  message.copy(frame, 2);
  return frame;
}

/** A raw TCP connection to the daemon, from `source` (any 127/8 address), that collects replies. */
class TcpClient {
  readonly socket: Socket;
  readonly replies: Buffer[] = [];
  /** Set when the connection closed, whichever side closed it. */
  closed = false;
  #buffered = Buffer.alloc(0);

  private constructor(socket: Socket, reading: boolean) {
    this.socket = socket;
    socket.on("error", () => {});
    socket.once("close", () => (this.closed = true));
    if (!reading) {
      socket.pause();
      return;
    }
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 2 && this.#buffered.length >= 2 + this.#buffered.readUInt16BE(0)) {
        this.replies.push(Buffer.from(this.#buffered.subarray(2, 2 + this.#buffered.readUInt16BE(0))));
        this.#buffered = this.#buffered.subarray(2 + this.#buffered.readUInt16BE(0));
      }
    });
  }

  static open(port: number, source: string, reading = true): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress: source, noDelay: true }, () => resolve(new TcpClient(socket, reading)));
      socket.once("error", reject);
    });
  }

  /** Asks for `name` A and waits for the reply with that ID; rejects if the connection closes. */
  async ask(name: string, id: number): Promise<Buffer> {
    this.socket.write(tcpFrame(queryBytes(name, TYPE.A, { id })));
    await eventually(() => this.closed || this.replies.some((r) => r.readUInt16BE(0) === id), `a reply with ID ${id}`);
    const reply = this.replies.find((r) => r.readUInt16BE(0) === id);
    if (reply === undefined) throw new Error(`the connection closed before the reply with ID ${id}`);
    return reply;
  }
}

/** The sum of a metric's series whose labels contain `labels`, from the daemon's /metrics. */
async function metric(daemon: DnsDaemonProcess, name: string, labels = ""): Promise<number> {
  const { body } = await daemon.http("metrics");
  return body
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function expectClusterAnswers(daemon: DnsDaemonProcess, source = "127.0.0.1"): Promise<void> {
  for (const transport of ["+tcp", "+notcp"]) {
    const web = await dig("127.0.0.1", daemon.ports.dns, transport, "-b", source, fqdn("web"), "A");
    expect(web.answer).toEqual([`${fqdn("web")}. A ${webIP}`]);
  }
  const wide = await dig("127.0.0.1", daemon.ports.dns, "+tcp", "-b", source, fqdn("wide"), "A");
  expect(wide.answer).toHaveLength(WIDE_ENDPOINTS);
}

describe("signpost-dns against hostile TCP clients", () => {
  it(`holds its memory under ${ATTACK_CONNECTIONS} clients that pipeline ${QUERIES_PER_CONNECTION} queries each for a 16 KB answer and never read, and keeps answering dig`, async () => {
    const daemon = await startDaemon([]);
    try {
      const before = daemon.rssBytes();
      let peak = before;
      let sampling = true;
      const sampler = (async () => {
        while (sampling && daemon.alive) {
          try {
            peak = Math.max(peak, daemon.rssBytes());
          } catch {
            return; // exited between the check and the read; the test says so below
          }
          await sleep(50);
        }
      })();

      // Each client writes its queries as fast as the daemon takes them, and never reads.
      const frame = tcpFrame(queryBytes(fqdn("wide"), TYPE.A, { id: 7 }));
      const batch = Buffer.concat(Array.from({ length: 500 }, () => frame));
      const attackers = await Promise.all(Array.from({ length: ATTACK_CONNECTIONS }, () => TcpClient.open(daemon.ports.dns, "127.0.0.2", false)));
      const written = await Promise.all(
        attackers.map(async (attacker) => {
          let queries = 0;
          while (queries < QUERIES_PER_CONNECTION && !attacker.closed) {
            queries += 500;
            if (attacker.socket.write(batch)) continue;
            // Stalled: the daemon stopped reading. Its kernel buffers hold the rest of the batch.
            const drained = await Promise.race([new Promise<boolean>((r) => attacker.socket.once("drain", () => r(true))), sleep(3000).then(() => false)]);
            if (!drained) break;
          }
          return queries;
        }),
      );

      // A well-behaved client is answered while the attackers sit on their unread answers; the
      // daemon stopped reading each attacker's connection (the client cannot see that itself:
      // it never reads, so it would not even notice its connection closing).
      await expectClusterAnswers(daemon);
      expect(await metric(daemon, "coredns_dns_tcp_read_pauses_total", 'reason="write_buffer"')).toBeGreaterThanOrEqual(ATTACK_CONNECTIONS);

      // Nothing moves on an attacker's connection, so the idle timeout ends it.
      await eventually(
        async () => (await metric(daemon, "coredns_dns_tcp_connections_closed_total", 'reason="idle_timeout"')) >= ATTACK_CONNECTIONS,
        "the daemon closes the stalled connections",
        60_000,
      );
      for (const attacker of attackers) attacker.socket.destroy();
      sampling = false;
      await sampler;
      const after = daemon.rssBytes();
      process.stderr.write(
        `[dns-hostile-tcp] never-reading clients: ${written.reduce((a, b) => a + b, 0)} queries written on ${ATTACK_CONNECTIONS} connections; ` +
          `daemon RSS ${(before / MiB).toFixed(1)} MiB before, ${(peak / MiB).toFixed(1)} MiB peak during, ${(after / MiB).toFixed(1)} MiB after\n`,
      );
      expect(daemon.alive).toBe(true);
      expect(peak).toBeLessThan(RSS_BOUND);
      await expectClusterAnswers(daemon);
    } finally {
      await daemon.kill();
    }
  });

  describe("connection limits", () => {
    const MAX_CONNECTIONS = 12;
    const PER_IP = 4;
    let daemon: DnsDaemonProcess;
    const opened: TcpClient[] = [];
    const open = async (source: string, count: number) => {
      const clients: TcpClient[] = [];
      for (let i = 0; i < count; i++) clients.push(await TcpClient.open(daemon.ports.dns, source));
      opened.push(...clients);
      return clients;
    };
    let nextId = 100;
    const expectAnswers = async (client: TcpClient) => {
      const id = nextId++;
      const reply = render(await client.ask(fqdn("web"), id));
      expect(reply).toMatchObject({ id, rcode: 0, answer: [`${fqdn("web")} A ${webIP}`] });
    };

    beforeAll(async () => {
      // A short read deadline, and an idle timeout long enough never to be the reason here.
      daemon = await startDaemon([
        "--tcp-read-timeout", "500ms", "--tcp-idle-timeout", "5m",
        "--tcp-max-connections", String(MAX_CONNECTIONS), "--tcp-max-connections-per-ip", String(PER_IP),
      ]);
    });
    afterAll(async () => {
      for (const client of opened) client.socket.destroy();
      await daemon?.kill();
    });

    it("disconnects clients that drip-feed a query one byte at a time, and keeps an idle client that sent whole queries", async () => {
      const patient = (await open("127.0.0.1", 1))[0];
      if (patient === undefined) throw new Error("no connection");
      await expectAnswers(patient);

      // A frame that claims 65535 bytes and gets one more every 50 ms: it would take an hour.
      const drips = await open("127.0.0.2", 3);
      const dripping = drips.map(async (client) => {
        client.socket.write(Buffer.from([0xff, 0xff]));
        for (let sent = 0; !client.closed && sent < 65535; sent++) {
          client.socket.write(Buffer.from([0]));
          await sleep(50);
        }
      });
      await eventually(() => drips.every((d) => d.closed), "the daemon closes every drip-feeding connection", 60_000);
      await Promise.all(dripping);
      expect(drips.flatMap((d) => d.replies)).toEqual([]);
      expect(await metric(daemon, "coredns_dns_tcp_connections_closed_total", 'reason="read_timeout"')).toBe(drips.length);
      expect(await metric(daemon, "coredns_dns_tcp_connections_closed_total", 'reason="idle_timeout"')).toBe(0);

      // The patient client sat idle all along, never inside a frame: it is still served.
      expect(patient.closed).toBe(false);
      await expectAnswers(patient);
      await expectClusterAnswers(daemon);
    });

    it(`closes connections past ${PER_IP} from one address at once, keeps the first ones working, and serves other addresses`, async () => {
      const burst = await open("127.0.0.3", PER_IP + 6);
      await eventually(() => burst.filter((b) => b.closed).length === 6, "six of the burst closed by the daemon");
      const kept = burst.filter((b) => !b.closed);
      expect(kept).toHaveLength(PER_IP);
      for (const client of kept) await expectAnswers(client);
      expect(await metric(daemon, "coredns_dns_tcp_connections_rejected_total", 'reason="max_connections_per_ip"')).toBe(6);
      await expectClusterAnswers(daemon);
    });

    it(`closes connections past ${MAX_CONNECTIONS} in all at once, answers UDP meanwhile, and takes TCP again once some close`, async () => {
      // Open now: the patient client and the burst's survivors.
      const before = opened.filter((o) => !o.closed).length;
      const more = [...(await open("127.0.0.4", PER_IP)), ...(await open("127.0.0.5", PER_IP)), ...(await open("127.0.0.6", PER_IP))];
      const extra = before + more.length - MAX_CONNECTIONS;
      await eventually(() => more.filter((m) => m.closed).length === extra, `${extra} of the newest closed by the daemon`);
      for (const client of opened.filter((o) => !o.closed)) await expectAnswers(client);
      expect(await metric(daemon, "coredns_dns_tcp_connections")).toBe(MAX_CONNECTIONS);
      expect(await metric(daemon, "coredns_dns_tcp_connections_rejected_total", 'reason="max_connections"')).toBe(extra);

      // Full: a new TCP client is turned away, UDP is answered as ever.
      await expect(dig("127.0.0.1", daemon.ports.dns, "+tcp", fqdn("web"), "A")).rejects.toThrow();
      const udp = await dig("127.0.0.1", daemon.ports.dns, "+notcp", fqdn("web"), "A");
      expect(udp.answer).toEqual([`${fqdn("web")}. A ${webIP}`]);

      for (const client of more) client.socket.destroy();
      await eventually(async () => {
        try {
          return (await dig("127.0.0.1", daemon.ports.dns, "+tcp", fqdn("web"), "A")).answer.length === 1;
        } catch {
          return false;
        }
      }, "TCP answered again once connections closed");
      await expectClusterAnswers(daemon);
    });
  });
});
