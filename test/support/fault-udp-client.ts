// A UDP client that keeps one source port, for the fault suite:
//   node fault-udp-client.ts HOST PORT INTERVAL_MS TIMEOUT_MS
// Sends "seq N" every INTERVAL_MS from the same socket (so the same conntrack entry), and prints
// "ok N REPLY" for each answer, or "lost N" when none came within TIMEOUT_MS.
import { createSocket } from "node:dgram";

const [host = "", portText = "0", intervalText = "100", timeoutText = "1000"] = process.argv.slice(2);
const socket = createSocket("udp4");
const pending = new Map<number, NodeJS.Timeout>();
let seq = 0;

socket.on("message", (msg) => {
  const text = msg.toString("utf8").trim();
  const m = /seq (\d+)$/.exec(text);
  const n = Number(m?.[1] ?? "-1");
  const timer = pending.get(n);
  if (timer === undefined) return;
  clearTimeout(timer);
  pending.delete(n);
  process.stdout.write(`ok ${n} ${text.slice(0, text.length - (m?.[0].length ?? 0)).trim()}\n`);
});
// ICMP errors surface here on some kernels; the datagram is then lost, which the timer reports.
socket.on("error", () => undefined);
socket.bind(0, () => {
  process.stdout.write(`port ${socket.address().port}\n`);
  setInterval(() => {
    const n = seq++;
    pending.set(n, setTimeout(() => {
      pending.delete(n);
      process.stdout.write(`lost ${n}\n`);
    }, Number(timeoutText)));
    socket.send(`seq ${n}`, Number(portText), host);
  }, Number(intervalText));
});
process.on("SIGTERM", () => process.exit(0));
