// The probe Services' backend, run inside the backend pod's network namespace:
//   node echo-backend.ts PORT
// Accepts TCP connections and greets each with one line; a client that resets the connection at
// once (the prober does) is simply forgotten. Prints "ready" once it listens.
import { createServer } from "node:net";

const port = Number(process.argv[2] ?? "8080");
const server = createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.end("backend\n");
});
server.on("error", (err) => {
  process.stderr.write(`echo backend: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, "0.0.0.0", () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => process.exit(0));
