// One TCP connection kept open to an HTTP server (the echo stand-in), for the fault suite:
//   node fault-long-http-client.ts HOST PORT INTERVAL_MS
// Sends a keep-alive GET every INTERVAL_MS on the same connection, once the previous answer is in,
// and prints "reply HOSTNAME" for each answer, "error CODE" or "closed" when the connection ends.
import { connect } from "node:net";

const [host = "", portText = "0", intervalText = "500"] = process.argv.slice(2);
const interval = Number(intervalText);
const socket = connect({ host, port: Number(portText) });
socket.setEncoding("utf8");
let buffer = "";
let waiting = false;

function send(): void {
  if (waiting) return;
  waiting = true;
  socket.write(`GET /long HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
}

socket.on("connect", () => {
  process.stdout.write(`connected ${socket.localPort ?? 0}\n`);
  send();
  setInterval(send, interval);
});
socket.on("data", (chunk: string) => {
  buffer += chunk;
  for (let m = /"hostname":"([^"]*)"[^\n]*\n/.exec(buffer); m !== null; m = /"hostname":"([^"]*)"[^\n]*\n/.exec(buffer)) {
    process.stdout.write(`reply ${m[1] ?? ""}\n`);
    buffer = buffer.slice(m.index + m[0].length);
    waiting = false;
  }
});
socket.on("error", (err: NodeJS.ErrnoException) => {
  process.stdout.write(`error ${err.code ?? err.message}\n`);
  process.exit(1);
});
socket.on("close", () => {
  process.stdout.write("closed\n");
  process.exit(0);
});
process.on("SIGTERM", () => process.exit(0));
