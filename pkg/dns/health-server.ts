// The HTTP side of signpost-dns, on CoreDNS's ports: /health (8080) is 200 while the process
// runs, lameduck included, so the kubelet does not kill a pod that is draining; /ready (8181)
// is 200 once the store has synced and 503 from the moment shutdown begins, so the Service
// stops sending it queries first; /metrics (9153) is Prometheus text. The servers are handed
// plain functions and read nothing else of the daemon. Equal non-zero ports share one server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { SignpostError } from "../errors/errors.ts";

export interface SideServerPorts {
  readonly health: number;
  readonly ready: number;
  readonly metrics: number;
}

export interface SideServerState {
  /** Why the server is not ready ("not synced", "shutting down"), or null when it is. */
  readonly notReady: () => string | null;
  /** The metrics as Prometheus text exposition, and its content type. */
  readonly metrics: () => Promise<{ readonly text: string; readonly contentType: string }>;
}

export interface SideServers {
  /** The ports bound, which differ from the ones asked for when those were 0. */
  readonly ports: SideServerPorts;
  close(): Promise<void>;
}

type Endpoint = keyof SideServerPorts;

const paths: Readonly<Record<Endpoint, string>> = { health: "/health", ready: "/ready", metrics: "/metrics" };

export async function startSideServers(host: string, asked: SideServerPorts, state: SideServerState): Promise<SideServers> {
  // One server per distinct port; 0 always gets a server of its own.
  const groups: Endpoint[][] = [];
  for (const endpoint of ["health", "ready", "metrics"] as const) {
    const shared = asked[endpoint] === 0 ? undefined : groups.find((g) => g[0] !== undefined && asked[g[0]] === asked[endpoint]);
    if (shared === undefined) groups.push([endpoint]);
    else shared.push(endpoint);
  }
  const servers: Server[] = [];
  const bound: Record<Endpoint, number> = { health: 0, ready: 0, metrics: 0 };
  try {
    for (const group of groups) {
      const first = group[0];
      if (first === undefined) continue;
      const server = createServer((req, res) => route(group, req, res, state));
      servers.push(server);
      const port = await listen(server, host, asked[first], `--${first}-port`);
      for (const endpoint of group) bound[endpoint] = port;
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }
  return { ports: bound, close: async () => void (await Promise.all(servers.map(closeServer))) };
}

function route(endpoints: readonly Endpoint[], req: IncomingMessage, res: ServerResponse, state: SideServerState): void {
  const path = (req.url ?? "/").split("?")[0];
  const endpoint = endpoints.find((e) => paths[e] === path);
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n");
  switch (endpoint) {
    case "health":
      return send(res, 200, "OK");
    case "ready": {
      const reason = state.notReady();
      return reason === null ? send(res, 200, "OK") : send(res, 503, `${reason}\n`);
    }
    case "metrics":
      state.metrics().then(
        ({ text, contentType }) => send(res, 200, text, contentType),
        (err: unknown) => send(res, 500, `metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
      );
      return;
    default:
      return send(res, 404, "not found\n");
  }
}

function send(res: ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: Server, host: string, port: number, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (err) => {
      reject(new SignpostError("SP_LISTEN", `${flag} ${port}`, `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    });
    server.listen({ host, port }, () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
