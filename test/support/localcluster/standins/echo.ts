// Stand-in echo server: answers every request with the pod's hostname and the client's address,
// so a test can tell which backend served it and whether the source IP was preserved.
import { createServer } from "node:http";
import { hostname } from "node:os";

const port = Number(process.env["PORT"] ?? "8080");
createServer((req, res) => {
  const client = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ hostname: hostname(), client, path: req.url ?? "/" }) + "\n");
}).listen(port, "0.0.0.0");
process.on("SIGTERM", () => process.exit(0));
