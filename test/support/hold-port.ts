// A plain TCP listener holding a loopback port, as another process (an old kube-proxy, say) would.
import { createServer, type Server } from "node:net";

export async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}
