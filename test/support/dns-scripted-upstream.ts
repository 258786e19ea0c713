// An upstream DNS server for attack tests, on a loopback address of its own at port 53 (as a
// resolv.conf nameserver must be), over UDP and TCP: each question is answered by a script
// (huge answers, silence, a CNAME that leads nowhere), and every question that reaches it is
// counted, so a test can tell how often signpost-dns asked.
import { randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";

/** What the upstream does with one question: the response bytes, or null to stay silent. */
export type Script = (question: ScriptedQuestion) => Buffer | null;

export interface ScriptedQuestion {
  /** The query as received. */
  readonly message: Buffer;
  /** Lower-case, without the trailing dot. */
  readonly name: string;
  readonly qtype: number;
  readonly transport: "udp" | "tcp";
}

export class ScriptedUpstream {
  readonly address: string;
  readonly #udp: Socket;
  readonly #tcp: Server;
  readonly #counts = new Map<string, number>();

  private constructor(address: string, udp: Socket, tcp: Server) {
    this.address = address;
    this.#udp = udp;
    this.#tcp = tcp;
  }

  /** Listens on a random 127.x.y.z:53; the test runs as root in a namespace of its own. */
  static async start(script: Script): Promise<ScriptedUpstream> {
    const address = `127.53.${randomInt(256)}.${1 + randomInt(254)}`;
    const udp = createSocket("udp4");
    const tcp = createServer();
    const upstream = new ScriptedUpstream(address, udp, tcp);
    udp.on("message", (message, rinfo) => {
      const response = upstream.#answer(script, message, "udp");
      if (response !== null) udp.send(response, rinfo.port, rinfo.address);
    });
    tcp.on("connection", (socket) => {
      let buffered = Buffer.alloc(0);
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
          buffered = buffered.subarray(2 + message.length);
          const response = upstream.#answer(script, Buffer.from(message), "tcp");
          if (response === null) continue;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(response.length);
          socket.write(Buffer.concat([length, response]));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(53, address, () => resolve());
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(53, address, () => resolve());
    });
    return upstream;
  }

  /** Questions for `name` that reached this upstream, over UDP and TCP together. */
  queriesFor(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  #answer(script: Script, message: Buffer, transport: "udp" | "tcp"): Buffer | null {
    const question = readQuestion(message);
    if (question === null) return null;
    this.#counts.set(question.name, (this.#counts.get(question.name) ?? 0) + 1);
    return script({ message, ...question, transport });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }
}

function readQuestion(message: Buffer): { name: string; qtype: number; end: number } | null {
  const labels: string[] = [];
  let at = 12;
  for (let length = message[at]; length !== undefined && length !== 0; length = message[at]) {
    if (length > 63 || at + 1 + length > message.length) return null;
    labels.push(message.toString("latin1", at + 1, at + 1 + length).toLowerCase());
    at += 1 + length;
  }
  if (at + 5 > message.length) return null;
  return { name: labels.join("."), qtype: message.readUInt16BE(at + 1), end: at + 5 };
}

/** The response header and question for `message`: QR, RD as asked, RA, with `rcode` and counts. */
export function responseHead(message: Buffer, fields: { rcode?: number; tc?: boolean; answers?: number; authorities?: number }): Buffer {
  const question = readQuestion(message);
  const end = question === null ? 12 : question.end;
  const out = Buffer.from(message.subarray(0, end));
  out[2] = 0x80 | ((message[2] ?? 0) & 0x01) | (fields.tc === true ? 0x02 : 0);
  out[3] = 0x80 | (fields.rcode ?? 0);
  out.writeUInt16BE(question === null ? 0 : 1, 4);
  out.writeUInt16BE(fields.answers ?? 0, 6);
  out.writeUInt16BE(fields.authorities ?? 0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

/** `count` A records owned by the question's name (a pointer to offset 12), TTL `ttl`. */
export function addressRecords(count: number, ttl: number): Buffer {
  const out = Buffer.alloc(count * 16);
  for (let i = 0; i < count; i++) {
    const at = i * 16;
    out.writeUInt16BE(0xc00c, at);
    out.writeUInt16BE(1, at + 2);
    out.writeUInt16BE(1, at + 4);
    out.writeUInt32BE(ttl, at + 6);
    out.writeUInt16BE(4, at + 10);
    out.writeUInt32BE(0xc6120000 + i, at + 12); // 198.18.0.0/15, the benchmarking range
  }
  return out;
}

/** A CNAME owned by the question's name pointing at `target`, TTL `ttl`. */
export function cnameRecord(target: string, ttl: number): Buffer {
  const name = Buffer.concat([...target.split(".").map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, "latin1")])), Buffer.from([0])]);
  const out = Buffer.alloc(12 + name.length);
  out.writeUInt16BE(0xc00c, 0);
  out.writeUInt16BE(5, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(ttl, 6);
  out.writeUInt16BE(name.length, 10);
  name.copy(out, 12);
  return out;
}
