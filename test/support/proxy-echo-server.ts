// A backend for proxy integration tests, run inside a pod network namespace:
//   node proxy-echo-server.ts NAME PORT [ipv4|ipv6 [HOST]]
// TCP: greets each connection with "NAME CLIENT_IP" and then answers each line with "NAME LINE".
// UDP: answers each datagram with "NAME CLIENT_IP". Prints "ready" once every socket listens:
// IPv4, and with "ipv6" IPv6 too (separate IPv6-only sockets, so IPv4 clients keep plain addresses).
// HOST binds the IPv4 sockets to one address (127.0.0.1 for a node's loopback-only service).
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

const [name = "backend", portText = "8080", families = "ipv4", host = "0.0.0.0"] = process.argv.slice(2);
const port = Number(portText);
const withIPv6 = families === "ipv6";

function tcpServer() {
  return createServer((socket) => {
    socket.on("error", () => socket.destroy());
    socket.write(`${name} ${socket.remoteAddress ?? "?"}\n`);
    // readline re-emits the socket's errors (ECONNRESET from a client that went away) on the
    // interface: without a listener there, one reset would crash the whole backend.
    createInterface({ input: socket })
      .on("line", (line) => {
        if (!socket.destroyed) socket.write(`${name} ${line}\n`);
      })
      .on("error", () => socket.destroy());
  });
}

function udpServer(type: "udp4" | "udp6") {
  const udp = createSocket({ type, ipv6Only: type === "udp6" });
  udp.on("message", (_msg, rinfo) => udp.send(`${name} ${rinfo.address}`, rinfo.port, rinfo.address));
  return udp;
}

let listening = 0;
const ready = (): void => {
  if (++listening === (withIPv6 ? 4 : 2)) process.stdout.write("ready\n");
};
tcpServer().listen(port, host, ready);
udpServer("udp4").bind(port, host, ready);
if (withIPv6) {
  tcpServer().listen({ port, host: "::", ipv6Only: true }, ready);
  udpServer("udp6").bind(port, "::", ready);
}
process.on("SIGTERM", () => process.exit(0));
