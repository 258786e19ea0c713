// A small REST client for the benchmarks' own API calls: creating thousands of objects with many
// requests in flight, and changing one EndpointSlice with a merge patch, without the overhead of
// client-node's generated code. It authenticates with the control plane's admin certificate.
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import type { ControlPlane } from "../support/localcluster/control-plane.ts";

export class KubeRest {
  readonly #agent: Agent;
  readonly #server: string;

  constructor(cp: ControlPlane, connections = 32) {
    this.#server = cp.apiServerUrl;
    this.#agent = new Agent({
      connections,
      connect: {
        ca: readFileSync(cp.pki.ca.cert),
        cert: readFileSync(cp.pki.admin.cert),
        key: readFileSync(cp.pki.admin.key),
      },
    });
  }

  /** Sends one request; returns the parsed JSON body, or throws with the API's message. */
  async call(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown, contentType = "application/json"): Promise<unknown> {
    const r = await request(this.#server + path, {
      method,
      dispatcher: this.#agent,
      headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": contentType }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: HTTP ${r.statusCode}: ${text.slice(0, 500)}`);
    return text === "" ? null : (JSON.parse(text) as unknown);
  }

  /** GETs a path that answers plain text (/metrics). */
  async text(path: string): Promise<string> {
    const r = await request(this.#server + path, { method: "GET", dispatcher: this.#agent });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`GET ${path}: HTTP ${r.statusCode}: ${text.slice(0, 500)}`);
    return text;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Runs fn over items with at most `limit` calls in flight; rejects with the first failure. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
