// Runs inside the client pod's network namespace for the whole run:
//   node first-connection-prober.ts
// Reads one JSON request a line, {"id", "host", "port", "timeoutMs"}, and tries to connect to
// host:port over TCP again and again (a fresh source port each time, 2 ms apart) until one
// attempt connects. Answers a JSON line {"id", "okAtMs", "attempts"} where okAtMs is the wall
// clock, in fractional milliseconds, of the first successful connect, or {"id", "error"} when
// timeoutMs passed first. Requests are served one after the other.
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

interface ProbeRequest {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

/** One attempt: resolves the wall time it connected, or null when it failed. */
function attempt(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, 200);
    socket.on("connect", () => {
      const at = wallNow();
      clearTimeout(timer);
      socket.destroy();
      resolve(at);
    });
    socket.on("error", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(null);
    });
  });
}

async function serve(r: ProbeRequest): Promise<Record<string, unknown>> {
  const deadline = wallNow() + r.timeoutMs;
  let attempts = 0;
  while (wallNow() < deadline) {
    attempts++;
    const at = await attempt(r.host, r.port);
    if (at !== null) return { id: r.id, okAtMs: at, attempts };
    await sleep(2);
  }
  return { id: r.id, error: `no connection within ${r.timeoutMs} ms`, attempts };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "") continue;
  const answer = await serve(JSON.parse(line) as ProbeRequest);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
