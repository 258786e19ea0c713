// The HTTP side servers of both daemons (health, readiness, metrics, health-check node ports):
// one way to listen on an address, route a path, answer and close. A server is handed plain
// functions and data, never a daemon's internals. Paths are matched as Go's ServeMux matches
// them in kube-proxy and CoreDNS: any method, the query ignored, "404 page not found" otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { SignpostError } from "../errors/errors.ts";
import { errorMessage } from "../errors/error-message.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The paths a server answers, each with its handler. */
export type Routes = Readonly<Record<string, Handler>>;

export interface Listening {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Splits "host:port" or "[v6]:port"; an empty host means every address. */
export function splitBindAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):([0-9]{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new Error(`"${text}" is not host:port`);
  return { host: m[1] ?? m[2] ?? "", port };
}

/**
 * Listens on host:port ("" for every address, port 0 for any free one). `setting` names what
 * the user set, for the SP_LISTEN error when the address cannot be had ("--ready-port 8181").
 */
export async function listenHttp(host: string, port: number, handler: Handler, setting: string): Promise<Listening> {
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => {
      reject(new SignpostError("SP_LISTEN", setting, `cannot listen on ${host === "" ? "*" : host}:${port}: ${err.message}`, { cause: err }));
    });
    server.listen({ host: host === "" ? undefined : host, port }, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === "object" && addr !== null ? addr : { address: host, port };
  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A handler that sends each path to its route, and every other path a 404. */
export function routed(routes: Routes): Handler {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) send(res, 404, "404 page not found\n");
    else route(req, res);
  };
}

export function send(res: ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** /metrics: the Prometheus text exposition, or a 500 saying why it could not be made. */
export function metricsHandler(metrics: () => Promise<{ readonly text: string; readonly contentType: string }>): Handler {
  return (_req, res) => {
    metrics().then(
      ({ text, contentType }) => send(res, 200, text, contentType),
      (err: unknown) => send(res, 500, `metrics failed: ${errorMessage(err)}\n`),
    );
  };
}
