// A client for proxy integration tests, run inside a client network namespace:
//   node proxy-probe.ts tcp|udp HOST PORT COUNT TIMEOUT_MS [LOCAL_ADDRESS [LOCAL_PORT]]
// Makes COUNT attempts one after the other and prints a JSON array, one entry per attempt:
// {"reply": "NAME CLIENT_IP"} or {"error": "ECONNREFUSED" | "timeout" | ...}.
import { createSocket } from "node:dgram";
import { connect, isIPv6 } from "node:net";

const [proto = "tcp", host = "", portText = "0", countText = "1", timeoutText = "3000", localAddress, localPortText] = process.argv.slice(2);
const port = Number(portText);
const timeoutMs = Number(timeoutText);
const localPort = localPortText === undefined ? undefined : Number(localPortText);

interface Outcome {
  readonly reply?: string;
  readonly error?: string;
}

function tcpOnce(): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }), ...(localPort === undefined ? {} : { localPort }) });
    let buffer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: "timeout" });
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ reply: buffer.slice(0, nl) });
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: err.code ?? err.message });
    });
  });
}

function udpOnce(): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
    const timer = setTimeout(() => {
      socket.close();
      resolve({ error: "timeout" });
    }, timeoutMs);
    socket.on("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve({ reply: msg.toString("utf8") });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.close();
      resolve({ error: err.code ?? err.message });
    });
    socket.bind({ port: localPort ?? 0, ...(localAddress === undefined ? {} : { address: localAddress }) }, () => {
      socket.send("hello", port, host);
    });
  });
}

const outcomes: Outcome[] = [];
for (let i = 0; i < Number(countText); i++) outcomes.push(proto === "udp" ? await udpOnce() : await tcpOnce());
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
