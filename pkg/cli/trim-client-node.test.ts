// The daemons' module graphs, loaded as their entry points load them: with the hook in place,
// none of client-node's generated API (models, API classes) is read, and KubeConfig still
// loads a kubeconfig and authenticates a request.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trim-client-node-"));
  await writeFile(
    join(dir, "kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]",
      "users: [{name: u, user: {token: sekret}}]",
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      "current-context: x",
    ].join("\n"),
  );
  // The probe: the hook first, then a recorder of every module resolved after it, then the daemons.
  await writeFile(
    join(dir, "probe.ts"),
    `import ${JSON.stringify(join(root, "pkg/cli/trim-client-node.ts"))};
import { registerHooks } from "node:module";
const seen: string[] = [];
registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
await import(${JSON.stringify(join(root, "pkg/dns/daemon.ts"))});
await import(${JSON.stringify(join(root, "pkg/proxy/daemon.ts"))});
const { loadKubeConfig } = await import(${JSON.stringify(join(root, "pkg/kube/load-kubeconfig.ts"))});
const { ApiClient } = await import(${JSON.stringify(join(root, "pkg/kube/api-client.ts"))});
const kc = loadKubeConfig(${JSON.stringify(join(dir, "kubeconfig"))});
const { RequestContext, HttpMethod } = await import(${JSON.stringify(join(root, "node_modules/@kubernetes/client-node/dist/gen/http/http.js"))});
const ctx = new RequestContext("https://127.0.0.1:6443/api", HttpMethod.GET);
await kc.applySecurityAuthentication(ctx);
const clientNode = seen.filter((u) => u.includes("/@kubernetes/client-node/"));
process.stdout.write(JSON.stringify({
  clientNode: clientNode.length,
  generated: clientNode.filter((u) => /\\/gen\\/(models|apis|types)\\//.test(u)).map((u) => u.slice(u.indexOf("/dist/"))),
  server: new ApiClient(kc).server,
  authorization: ctx.getHeaders()["Authorization"],
}));
`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trim-client-node", { timeout: 60_000 }, () => {
  it("keeps client-node's generated API out of both daemons, and KubeConfig still works", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--disable-warning=ExperimentalWarning", join(dir, "probe.ts")], { cwd: root });
    const out = JSON.parse(stdout) as { clientNode: number; generated: string[]; server: string; authorization: string };
    expect(out.clientNode).toBeGreaterThan(0);
    expect(out.generated).toEqual([]);
    expect(out.server).toBe("https://127.0.0.1:6443");
    expect(out.authorization).toBe("Bearer sekret");
  });
});
