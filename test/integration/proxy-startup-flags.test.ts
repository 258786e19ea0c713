// kube-proxy's start-up behaviour around its side servers and its config file, against the real
// API server with the rules in a network namespace: a healthz port another process holds is
// retried while the rules are programmed (and is fatal with --bind-address-hard-fail), and a
// changed --config file ends the daemon so that its DaemonSet restarts it with the new settings.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { NetNs } from "../support/netns.ts";
import { ProxyDaemon } from "../support/proxy-daemon.ts";
import { createNode } from "../support/proxy-objects.ts";
import { nodeIP } from "../support/proxy-topology.ts";
import { binRuns } from "../support/bin-entry.ts";
import { holdPort } from "../support/hold-port.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-start-${randomBytes(3).toString("hex")}`;
const syncArgs = ["--min-sync-period", "100ms", "--sync-period", "2s"];
const dir = mkdtempSync(join(tmpdir(), "signpost-startup-"));

let node: NetNs;
const daemons: ProxyDaemon[] = [];

beforeAll(async () => {
  await createNode(c.core, nodeName, nodeIP);
  node = await NetNs.create("pxst-node");
});

afterAll(async () => {
  for (const d of daemons) await d.stop();
  await node?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function start(args: readonly string[], healthzPort?: number): Promise<ProxyDaemon> {
  const d = await ProxyDaemon.start({ kubeconfig, nodeName, netns: node.name, extraArgs: [...syncArgs, ...args], ...(healthzPort === undefined ? {} : { healthzPort }) });
  daemons.push(d);
  return d;
}

describe("side servers that cannot listen", () => {
  it("by default: the rules are programmed, the healthz port is retried, and served once free", async () => {
    const held = await holdPort();
    const d = await start([], held.port);
    await d.waitForLog((l) => l["server"] === "healthz" && l["level"] === 50, "the healthz server's failure, logged");
    await d.waitForLog((l) => l["msg"] === "rules synced", "the rules synced all the same");
    expect(d.logs().find((l) => l["msg"] === "starting")).toMatchObject({ code: binRuns("signpost-proxy") });
    await new Promise<void>((resolve) => held.server.close(() => resolve()));
    await d.waitForLog((l) => l["msg"] === "the healthz server listens", "the retry that binds the port");
    await eventually(async () => (await d.get(held.port, "/livez")).status === 200, "/livez answers on the freed port");
    await d.stop();
  });

  it("with --bind-address-hard-fail: the daemon exits, naming the address", async () => {
    const held = await holdPort();
    try {
      const d = await start(["--bind-address-hard-fail"], held.port);
      await eventually(() => d.exitCode() !== undefined, "the daemon exits by itself");
      expect(d.exitCode()).not.toBe(0);
      expect(d.stderr).toContain(`SP_LISTEN: --healthz-bind-address 127.0.0.1:${held.port}: cannot listen on 127.0.0.1:${held.port}`);
    } finally {
      held.server.close();
    }
  });
});

describe("the --config file", () => {
  it("exits when the file's content changes, leaving the rules in place", async () => {
    const file = join(dir, "kube-proxy.yaml");
    writeFileSync(file, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\n");
    const d = await start(["--config", file]);
    await d.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
    writeFileSync(file, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.245.0.0/16\n");
    await d.waitForLog((l) => typeof l["msg"] === "string" && l["msg"].startsWith("the --config file changed"), "the change noticed");
    await eventually(() => d.exitCode() !== undefined, "the daemon exits");
    expect(d.exitCode()).toBe(1);
    expect(await node.run("iptables-save", ["-t", "nat"])).toContain("KUBE-SERVICES");
  });
});
