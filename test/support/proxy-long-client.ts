// A long-lived TCP client for proxy integration tests, run inside a client network namespace:
//   node proxy-long-client.ts HOST PORT
// Prints the server's greeting, then sends each line read from stdin and prints each line the
// server sends back, so a test can check that one connection still works across events.
import { connect } from "node:net";
import { createInterface } from "node:readline";

const [host = "", portText = "0"] = process.argv.slice(2);
const socket = connect({ host, port: Number(portText) });
socket.setEncoding("utf8");
createInterface({ input: socket }).on("line", (line) => process.stdout.write(`${line}\n`));
socket.on("error", (err: NodeJS.ErrnoException) => {
  process.stdout.write(`error ${err.code ?? err.message}\n`);
  process.exit(1);
});
socket.on("close", () => {
  process.stdout.write("closed\n");
  process.exit(0);
});
createInterface({ input: process.stdin }).on("line", (line) => socket.write(`${line}\n`));
