// A backend for proxy integration tests, run inside a pod network namespace:
//   node proxy-echo-server.ts NAME PORT
// TCP: greets each connection with "NAME CLIENT_IP" and then answers each line with "NAME LINE".
// UDP: answers each datagram with "NAME CLIENT_IP". Prints "ready" once both sockets listen.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

const [name = "backend", portText = "8080"] = process.argv.slice(2);
const port = Number(portText);

const tcp = createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.write(`${name} ${socket.remoteAddress ?? "?"}\n`);
  createInterface({ input: socket }).on("line", (line) => {
    if (!socket.destroyed) socket.write(`${name} ${line}\n`);
  });
});
const udp = createSocket("udp4");
udp.on("message", (_msg, rinfo) => udp.send(`${name} ${rinfo.address}`, rinfo.port, rinfo.address));

let listening = 0;
const ready = (): void => {
  if (++listening === 2) process.stdout.write("ready\n");
};
tcp.listen(port, "0.0.0.0", ready);
udp.bind(port, "0.0.0.0", ready);
process.on("SIGTERM", () => process.exit(0));
