// The bundle's stand-ins for client-node's proxy support (bundle-plugins.ts): a small entry,
// bundled as the daemons are, must get from a KubeConfig with a proxy-url the agents and
// dispatchers client-node makes unbundled, and its SOCKS dispatcher must reach the real SOCKS
// client (a proxy on a closed loopback port refuses it). undici's parts (the Agent, its request
// methods) must make a request as the whole package does.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLE_OPTIONS, root } from "./bundle-plugins.ts";

const dir = mkdtempSync(join(tmpdir(), "bundle-plugins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the entry reports for each kubeconfig: the https.Agent and undici dispatcher client-node makes. */
const ENTRY = `
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { Agent, fetch } from "undici";
import http from "node:http";
export async function get(origin) {
  const r = await new Agent().request({ origin, path: "/which", method: "GET", headers: { accept: "text/plain" } });
  return { status: r.statusCode, body: await r.body.text() };
}
export async function agents(server, proxyUrl) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, proxyUrl, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const options = {};
  await kc.applyToHTTPSOptions(options);
  // The real agents are http.Agents that hold their proxy; a stand-in itself would be neither.
  const agent = options.agent instanceof http.Agent && options.agent.proxy !== undefined ? options.agent.constructor.name : "not a proxy agent";
  return { agent, dispatcher: kc.createDispatcher(kc.getCurrentCluster(), {}).constructor.name };
}
export async function throughSocks(proxyUrl) {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: "c", server: "https://127.0.0.1:6443", proxyUrl, skipTLSVerify: true }], users: [{ name: "u" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" });
  try {
    await fetch("https://127.0.0.1:6443/", { dispatcher: kc.createDispatcher(kc.getCurrentCluster(), {}) });
    return "connected";
  } catch (err) {
    return String(err.cause?.message ?? err.message);
  }
}
`;

interface Entry {
  get(origin: string): Promise<{ status: number; body: string }>;
  agents(server: string, proxyUrl: string): Promise<{ agent: string; dispatcher: string }>;
  throughSocks(proxyUrl: string): Promise<string>;
}

async function bundled(): Promise<{ entry: Entry; inputs: string[] }> {
  const outfile = join(dir, "entry.mjs");
  const result = await build({ ...BUNDLE_OPTIONS, stdin: { contents: ENTRY, resolveDir: root, loader: "js" }, outfile, logLevel: "silent" });
  return { entry: (await import(outfile)) as Entry, inputs: Object.keys(result.metafile.inputs) };
}

describe("the bundle's stand-ins for client-node's proxy support", () => {
  it("give the agents and dispatchers client-node gives, and the SOCKS client behind the dispatcher is the real one", async () => {
    const { entry, inputs } = await bundled();
    expect(inputs.filter((i) => i.startsWith("lazy-proxy-support:")).sort()).toEqual(["lazy-proxy-support:hpagent", "lazy-proxy-support:socks", "lazy-proxy-support:socks-proxy-agent"]);
    // node:http, as every builtin an ES module imports, comes from process.getBuiltinModule: the
    // proxy agents below must still be its Agents.
    expect(inputs).toContain("builtin-esm:http");
    const cases: [string, string, { agent: string; dispatcher: string }][] = [
      ["https://127.0.0.1:6443", "socks5://127.0.0.1:1080", { agent: "SocksProxyAgent", dispatcher: "Agent" }],
      ["https://127.0.0.1:6443", "http://127.0.0.1:3128", { agent: "HttpsProxyAgent", dispatcher: "ProxyAgent" }],
      ["http://127.0.0.1:8080", "http://127.0.0.1:3128", { agent: "HttpProxyAgent", dispatcher: "ProxyAgent" }],
    ];
    for (const [server, proxy, expected] of cases) {
      const got = await entry.agents(server, proxy);
      // esbuild renames a class whose name another module also uses (Agent -> Agent2).
      const unnumbered = (name: string) => name.replace(/\d+$/, "");
      expect({ agent: unnumbered(got.agent), dispatcher: unnumbered(got.dispatcher) }, `${server} through ${proxy}`).toEqual(expected);
    }
    // Port 1 on loopback has no listener: the SOCKS client's connection to the proxy is refused.
    expect(await entry.throughSocks("socks5://127.0.0.1:1")).toMatch(/ECONNREFUSED/);
  });
});

describe("the bundle's undici parts", () => {
  it("make a request through an Agent, with undici's request method, and fetch is undici's", async () => {
    const server = createServer((req, res) => res.end(`${req.method} ${req.url} ${req.headers.accept}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { entry, inputs } = await bundled();
      expect(inputs).toContain("undici-parts:undici");
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await entry.get(origin)).toEqual({ status: 200, body: "GET /which text/plain" });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
