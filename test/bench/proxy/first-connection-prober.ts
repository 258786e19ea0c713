// Runs inside the client pod's network namespace for the whole run:
//   node first-connection-prober.ts
// Reads one JSON request a line, {"id", "host", "port", "timeoutMs"}, and tries to connect to
// host:port over TCP again and again (a fresh source port each time, a new attempt every 2 ms,
// several in flight) until one attempt connects. Answers a JSON line {"id", "okAtMs", "lastFailedAtMs", "attempts"} where
// okAtMs is the wall clock, in fractional milliseconds, of the first successful connect and
// lastFailedAtMs the start of the attempt made just before the one that connected (absent when
// the first attempt worked): the moment the path opened lies between the two. {"id", "error"} when timeoutMs passed
// first. Requests are served one after the other.
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

/**
 * A new attempt every 2 ms whether or not the earlier ones have ended, up to MAX_IN_FLIGHT at
 * once: before the rules exist a SYN is often neither answered nor refused (the node's ICMP for
 * an unreachable route is rate-limited by the kernel), and waiting out each attempt's 200 ms
 * would make that the resolution.
 */
const MAX_IN_FLIGHT = 100;

async function serve(r: ProbeRequest): Promise<Record<string, unknown>> {
  const deadline = wallNow() + r.timeoutMs;
  let attempts = 0;
  let inFlight = 0;
  let won: { okAtMs: number; previousStartMs: number | undefined } | null = null;
  let lastStartMs: number | undefined;
  while (won === null && wallNow() < deadline) {
    if (inFlight < MAX_IN_FLIGHT) {
      attempts++;
      inFlight++;
      const previousStartMs = lastStartMs;
      lastStartMs = wallNow();
      void attempt(r.host, r.port).then((at) => {
        inFlight--;
        if (at !== null && (won === null || at < won.okAtMs)) won = { okAtMs: at, previousStartMs };
      });
    }
    await sleep(2);
  }
  const result = won as { okAtMs: number; previousStartMs: number | undefined } | null;
  if (result === null) return { id: r.id, error: `no connection within ${r.timeoutMs} ms`, attempts };
  return { id: r.id, okAtMs: result.okAtMs, attempts, ...(result.previousStartMs === undefined ? {} : { lastFailedAtMs: result.previousStartMs }) };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "") continue;
  const answer = await serve(JSON.parse(line) as ProbeRequest);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
