// Opens an HTTP server on "host:port" and closes it for good: both the daemon's fixed servers
// and the health-check node ports go through here, so a taken port fails the same way.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { SignpostError } from "../../errors/errors.ts";

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

export async function listenHttp(host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new SignpostError("SP_LISTEN", `${host === "" ? "*" : host}:${port}`, err.message, { cause: err })));
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
