import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpMethod, RequestContext } from "@kubernetes/client-node/dist/gen/http/http.js";
import { loadKubeConfig } from "./load-kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "signpost-kc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const good = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

describe("loadKubeConfig", () => {
  it("loads a valid file", () => {
    expect(loadKubeConfig(file("good", good)).getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("names a missing file", () => {
    expect(() => loadKubeConfig(join(dir, "absent"))).toThrow(/SP_BAD_KUBECONFIG: .*absent: the file does not exist/);
  });

  it("names a file that is not YAML", () => {
    expect(() => loadKubeConfig(file("junk", "clusters: [unclosed"))).toThrow(/SP_BAD_KUBECONFIG: .*junk/);
  });

  it("names the field: no current-context, an undefined context, cluster or user, a bad server", () => {
    expect(() => loadKubeConfig(file("noctx", good.replace("current-context: x", "")))).toThrow(/current-context: no current-context is set/);
    expect(() => loadKubeConfig(file("badctx", good.replace("current-context: x", "current-context: y")))).toThrow(/current-context: context "y" is not defined/);
    expect(() => loadKubeConfig(file("nocluster", good.replace("cluster: c,", "cluster: nope,")))).toThrow(/contexts\[x\]\.cluster/);
    expect(() => loadKubeConfig(file("nouser", good.replace("user: u }", "user: nope }")))).toThrow(/contexts\[x\]\.user/);
    expect(() => loadKubeConfig(file("badserver", good.replace('"https://127.0.0.1:6443"', '"not a url"')))).toThrow(/clusters\[c\]\.server: "not a url" is not a URL/);
  });

  it("reads the token of kubeadm's kube-proxy kubeconfig from its tokenFile, relative to the file", async () => {
    // As a service account token file is: no trailing newline (client-node sends the file as it is).
    writeFileSync(join(dir, "token"), "secret-token");
    const kc = loadKubeConfig(file("kubeadm", good.replace("user: { token: t }", "user: { tokenFile: token }")));
    const ctx = new RequestContext("https://127.0.0.1:6443/api", HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    expect(ctx.getHeaders()["Authorization"]).toBe("Bearer secret-token");
  });
});
