// The HTTP side of signpost-dns, on CoreDNS's ports: /health (8080) is 200 while the process
// runs, lameduck included, so the kubelet does not kill a pod that is draining; /ready (8181)
// is 200 once the store has synced and 503 from the moment shutdown begins, so the Service
// stops sending it queries first; /metrics (9153) is Prometheus text. The servers are handed
// plain functions and read nothing else of the daemon. Equal non-zero ports share one server.
import { type Handler, type Listening, listenHttp, metricsHandler, routed, send } from "../http/side-server.ts";

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
  const handlers: Readonly<Record<Endpoint, Handler>> = {
    health: (_req, res) => send(res, 200, "OK"),
    ready: (_req, res) => {
      const reason = state.notReady();
      if (reason === null) send(res, 200, "OK");
      else send(res, 503, `${reason}\n`);
    },
    metrics: metricsHandler(state.metrics),
  };
  // One server per distinct port; 0 always gets a server of its own.
  const groups: Endpoint[][] = [];
  for (const endpoint of ["health", "ready", "metrics"] as const) {
    const shared = asked[endpoint] === 0 ? undefined : groups.find((g) => g[0] !== undefined && asked[g[0]] === asked[endpoint]);
    if (shared === undefined) groups.push([endpoint]);
    else shared.push(endpoint);
  }
  const servers: Listening[] = [];
  const bound: Record<Endpoint, number> = { health: 0, ready: 0, metrics: 0 };
  try {
    for (const group of groups) {
      const first = group[0];
      if (first === undefined) continue;
      const routes = Object.fromEntries(group.map((endpoint) => [paths[endpoint], handlers[endpoint]]));
      const server = await listenHttp(host, asked[first], routed(routes), `--${first}-port ${asked[first]}`);
      servers.push(server);
      for (const endpoint of group) bound[endpoint] = server.port;
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return { ports: bound, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}
