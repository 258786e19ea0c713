// The offline subcommands through the real entry point, as an operator runs them: their
// interface (flags, stdout, exit codes) is meant to stay stable.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));
const objects = fileURLToPath(new URL("../../pkg/proxy/offline/testdata/cluster.yaml", import.meta.url));

async function proxy(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, ["--disable-warning=ExperimentalWarning", main, ...args], { reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

// Each test starts a Node process that loads the API client; the limit is generous, not a speed test.
describe("signpost-proxy render", { timeout: 60_000 }, () => {
  it("prints one complete iptables-restore input for the node", async () => {
    const r = await proxy("render", "--objects", objects, "--node", "node-a", "--cluster-cidr", "10.244.0.0/16");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.startsWith("*filter\n")).toBe(true);
    expect(r.stdout.trimEnd().endsWith("COMMIT")).toBe(true);
    expect(r.stdout).toContain('-A KUBE-SVC-67NZLRHBNDSAWJRO -m comment --comment "shop/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ');
  });

  it("exits 2 naming the flag when a required one is missing", async () => {
    const r = await proxy("render", "--objects", objects);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("signpost-proxy: SP_BAD_FLAG: --node: is required");
  });
});

describe("signpost-proxy trace", { timeout: 60_000 }, () => {
  it("prints the verdict, the endpoints, masquerading and the chains as JSON", async () => {
    const r = await proxy("trace", "--objects", objects, "--node", "node-a", "--src", "10.244.1.9", "--dst", "10.96.0.10", "--port", "80", "--proto", "tcp");
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ verdict: "DNAT", endpoints: ["10.244.1.2:8080", "10.244.2.2:8080"], masqueraded: false });
    expect(out["chains"]).toContain("nat/KUBE-SERVICES");
  });

  it("refuses a protocol it does not know", async () => {
    const r = await proxy("trace", "--objects", objects, "--node", "node-a", "--src", "10.0.0.1", "--dst", "10.96.0.10", "--port", "80", "--proto", "icmp");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--proto");
  });
});

describe("signpost-proxy's bad flags", { timeout: 120_000 }, () => {
  const trace = ["trace", "--objects", objects, "--node", "node-a", "--proto", "tcp"];
  it.each([
    [["render", "--node", "node-a"], "SP_BAD_FLAG: --objects: is required"],
    [["render", "--objects", "/nonexistent/objects.yaml", "--node", "node-a"], "SP_BAD_CONFIG: --objects /nonexistent/objects.yaml: the file does not exist"],
    [["render", "--objects", objects, "--node", "nope"], 'SP_BAD_FLAG: --node: no Node named "nope" in the objects (Nodes found: node-a'],
    [["render", "--objects", objects, "--node", "node-a", "--ip-family", "IPv5"], 'SP_BAD_FLAG: --ip-family: "IPv5" is not one of IPv4, IPv6'],
    [["render", "--objects", objects, "--node", "node-a", "extra"], "SP_BAD_FLAG: extra: unexpected argument"],
    [[...trace, "--src", "10.0.0.1", "--dst", "web", "--port", "80"], 'SP_BAD_FLAG: --dst: "web" is not an IP address'],
    [[...trace, "--src", "fd00::1", "--dst", "10.96.0.10", "--port", "80"], 'SP_BAD_FLAG: --src: "fd00::1" is not an IP address of the same family as --dst'],
    [[...trace, "--src", "10.0.0.1", "--dst", "10.96.0.10", "--port", "70000"], "SP_BAD_FLAG: --port: must be a port number, 1 to 65535"],
    [[...trace, "--src", "10.0.0.1", "--dst", "10.96.0.10", "--port", "http"], 'SP_BAD_FLAG: --port: "http" is not an integer'],
    [["proxy"], "SP_BAD_FLAG: proxy: unknown subcommand (known: render, trace)"],
  ])("%j", async (args, message) => {
    const r = await proxy(...args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`signpost-proxy: ${message}`);
  });
});

describe("signpost-proxy --write-config-to", { timeout: 60_000 }, () => {
  it("writes the resolved configuration as a KubeProxyConfiguration and exits 0 without the API server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signpost-write-config-"));
    try {
      const file = join(dir, "kube-proxy.yaml");
      const r = await proxy("--write-config-to", file, "--cluster-cidr", "10.244.0.0/16", "--oom-score-adj", "-500");
      expect(r.exitCode, r.stderr).toBe(0);
      const text = readFileSync(file, "utf8");
      expect(text).toMatch(/^apiVersion: kubeproxy.config.k8s.io\/v1alpha1\nkind: KubeProxyConfiguration\n/);
      expect(text).toContain("clusterCIDR: 10.244.0.0/16\n");
      expect(text).toContain("oomScoreAdj: -500\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 naming the flag when the file cannot be written", async () => {
    const r = await proxy("--write-config-to", "/nonexistent-dir/kube-proxy.yaml");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("SP_BAD_FLAG: --write-config-to: /nonexistent-dir/kube-proxy.yaml cannot be written");
  });
});
