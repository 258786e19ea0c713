// The health-check node ports of LoadBalancer Services with externalTrafficPolicy Local
// (kube-proxy's healthcheck/service_health.go): one HTTP server per Service on its
// healthCheckNodePort, answering 200 while this node has a ready local endpoint and the proxy is
// healthy, 503 otherwise, with kube-proxy's JSON body, so the cloud load balancer sends traffic
// only to nodes that can serve it. It is handed plain data, never the proxier.
import type { Logger } from "pino";
import type { Handler, Listening } from "../../http/side-server.ts";
import { listenHttp } from "../../http/side-server.ts";
import type { ObjectKey } from "../../model/types.ts";

export interface HealthCheckService {
  readonly nodePort: number;
  readonly localEndpoints: number;
}

/** kube-proxy's body, byte for byte: tab-indented, no trailing newline. */
export function healthCheckBody(key: ObjectKey, localEndpoints: number, proxyHealthy: boolean): string {
  const slash = key.indexOf("/");
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  return [
    "{",
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(namespace)},`,
    `\t\t"name": ${JSON.stringify(name)}`,
    "\t},",
    `\t"localEndpoints": ${localEndpoints},`,
    `\t"serviceProxyHealthy": ${String(proxyHealthy)}`,
    "}",
  ].join("\n");
}

interface Instance {
  readonly nodePort: number;
  readonly listeners: Listening[];
}

export interface ServiceHealthServerOptions {
  /** Addresses to listen on: the node-port addresses, or "0.0.0.0" / "::" for all. */
  readonly addresses: readonly string[];
  readonly proxyHealthy: () => boolean;
  readonly log: Logger;
}

export class ServiceHealthServer {
  readonly #o: ServiceHealthServerOptions;
  readonly #instances = new Map<ObjectKey, Instance>();
  #counts = new Map<ObjectKey, number>();
  #queue: Promise<void> = Promise.resolve();

  constructor(options: ServiceHealthServerOptions) {
    this.#o = options;
  }

  /** Opens and closes ports to match services, and updates the endpoint counts. */
  sync(services: ReadonlyMap<ObjectKey, HealthCheckService>): Promise<void> {
    const next = new Map<ObjectKey, number>();
    for (const [key, s] of services) next.set(key, s.localEndpoints);
    this.#counts = next;
    this.#queue = this.#queue.then(() => this.#reconcile(services));
    return this.#queue;
  }

  /** The ports currently open, by Service. */
  ports(): Map<ObjectKey, number> {
    return new Map([...this.#instances].map(([k, i]) => [k, i.nodePort]));
  }

  async close(): Promise<void> {
    await this.#queue;
    for (const inst of this.#instances.values()) await Promise.all(inst.listeners.map((l) => l.close()));
    this.#instances.clear();
  }

  async #reconcile(services: ReadonlyMap<ObjectKey, HealthCheckService>): Promise<void> {
    for (const [key, inst] of [...this.#instances]) {
      const want = services.get(key);
      if (want !== undefined && want.nodePort === inst.nodePort) continue;
      await Promise.all(inst.listeners.map((l) => l.close()));
      this.#instances.delete(key);
      this.#o.log.info({ service: key, port: inst.nodePort }, "health check node port closed");
    }
    for (const [key, want] of services) {
      if (this.#instances.has(key)) continue;
      const listeners: Listening[] = [];
      try {
        for (const address of this.#o.addresses) listeners.push(await listenHttp(address, want.nodePort, this.#handler(key), `healthCheckNodePort ${want.nodePort} of ${key}`));
        this.#instances.set(key, { nodePort: want.nodePort, listeners });
        this.#o.log.info({ service: key, port: want.nodePort }, "health check node port open");
      } catch (err) {
        await Promise.all(listeners.map((l) => l.close()));
        // Retried on the next sync, as kube-proxy does.
        this.#o.log.error({ service: key, port: want.nodePort, err }, "cannot open the health check node port");
      }
    }
  }

  /** Every path answers, as kube-proxy's health check server does. */
  #handler(key: ObjectKey): Handler {
    return (_req, res) => {
      const count = this.#counts.get(key) ?? 0;
      const healthy = this.#o.proxyHealthy();
      res
        .writeHead(count !== 0 && healthy ? 200 : 503, { "content-type": "application/json", "x-content-type-options": "nosniff" })
        .end(healthCheckBody(key, count, healthy));
    };
  }
}
