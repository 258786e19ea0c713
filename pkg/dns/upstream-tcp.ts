// One query over a fresh TCP connection, for answers too big for UDP: the upstream truncated
// its UDP answer. The answer must echo the query's ID and question, as over UDP.
import { randomInt } from "node:crypto";
import { connect } from "node:net";
import type { Upstream } from "./forwarder.ts";
import { answersQuery, buildQuery, type DnssecBits } from "./upstream-query.ts";

export function tcpExchange(upstream: Upstream, question: Buffer, bits: DnssecBits, udpSize: number, timeoutMs: number): Promise<Buffer> {
  const id = randomInt(0x10000);
  const message = buildQuery(id, question, udpSize, bits);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: upstream.address, port: upstream.port });
    // Chunks kept as they come and joined once the frame is whole: a 64 KiB answer arrives in
    // many chunks, and joining at each one would copy it over and over.
    const chunks: Buffer[] = [];
    let received = 0;
    const done = (error: Error | null, response?: Buffer) => {
      socket.destroy();
      if (response !== undefined) resolve(response);
      else reject(error ?? new Error("connection closed"));
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`upstream ${upstream.address}:${upstream.port} timed out over TCP`)));
    socket.on("error", (err) => done(err));
    socket.on("close", () => done(null));
    socket.on("connect", () => {
      const frame = Buffer.alloc(2 + message.length);
      frame.writeUInt16BE(message.length, 0);
      message.copy(frame, 2);
      socket.write(frame);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks.slice(0, 2));
      if (received < 2 || received < 2 + head.readUInt16BE(0)) return;
      const buffered = Buffer.concat(chunks, received);
      const response = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      if (!answersQuery(response, id, question)) {
        done(new Error("upstream answered another question over TCP"));
        return;
      }
      done(null, Buffer.from(response));
    });
  });
}
