// A minimal DNS-over-UDP client for polling: it sends one question per call and reads back the
// response code and answer count only. Kept separate from the products' codecs on purpose, so a
// bug there cannot make a name look resolved.
import { createSocket, type Socket } from "node:dgram";

export const TYPE_A = 1;
export const TYPE_PTR = 12;

export function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, "").split(".");
  const parts = [Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const label of labels) parts.push(Buffer.from([label.length]), Buffer.from(label, "ascii"));
  parts.push(Buffer.from([0, type >> 8, type & 255, 0, 1]));
  return Buffer.concat(parts);
}

export interface ProbeAnswer {
  /** 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ... */
  readonly rcode: number;
  readonly answers: number;
}

/** One UDP socket towards one server; `ask` resolves with the answer or null after timeoutMs. */
export class UdpProbe {
  readonly #socket: Socket;
  readonly #pending = new Map<number, (answer: ProbeAnswer) => void>();
  readonly #host: string;
  readonly #port: number;
  #nextId = 1;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
    this.#socket = createSocket("udp4");
    this.#socket.on("message", (msg: Buffer) => {
      if (msg.length < 12) return;
      const id = msg.readUInt16BE(0);
      const resolve = this.#pending.get(id);
      if (resolve === undefined) return;
      this.#pending.delete(id);
      resolve({ rcode: msg.readUInt8(3) & 0x0f, answers: msg.readUInt16BE(6) });
    });
    this.#socket.unref();
  }

  ask(name: string, type: number, timeoutMs = 1000): Promise<ProbeAnswer | null> {
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 65535) + 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.#pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.#socket.send(encodeQuery(id, name, type), this.#port, this.#host);
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** Asks until `accept` holds for an answer or the deadline passes; returns whether it held. */
export async function askUntil(
  host: string,
  port: number,
  name: string,
  type: number,
  accept: (answer: ProbeAnswer) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const probe = new UdpProbe(host, port);
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const answer = await probe.ask(name, type, 500);
      if (answer !== null && accept(answer)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  } finally {
    probe.close();
  }
}
