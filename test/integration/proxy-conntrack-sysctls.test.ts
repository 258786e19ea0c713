// signpost-proxy tunes the conntrack table at start as kube-proxy does (the --conntrack-* flags,
// KubeProxyConfiguration.conntrack), in the namespace its iptables run in: the timeouts are per
// network namespace, so the node namespace shows them while this one keeps its own. Outside the
// host's namespace nf_conntrack_max is read-only: raising it is refused, logged by name, and the
// proxy serves on. With --iptables-netns the sysctl command is run into the node's namespace;
// run inside it, the daemon writes the files under /proc/sys itself.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients } from "../support/kube.ts";
import { NetNs } from "../support/netns.ts";
import { ProxyDaemon, runProxyCommand } from "../support/proxy-daemon.ts";
import { createNode } from "../support/proxy-objects.ts";
import { nodeIP } from "../support/proxy-topology.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-ct-${randomBytes(3).toString("hex")}`;
const syncArgs = ["--min-sync-period", "100ms", "--sync-period", "2s"];

let node: NetNs;
const daemons: ProxyDaemon[] = [];

beforeAll(async () => {
  await createNode(c.core, nodeName, nodeIP);
  node = await NetNs.create("pxct-node");
});

afterAll(async () => {
  for (const d of daemons) await d.stop();
  await node?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
});

async function sysctl(key: string): Promise<number> {
  return Number((await node.run("sysctl", ["-n", `net.netfilter.${key}`])).trim());
}

function here(key: string): number {
  return Number(readFileSync(`/proc/sys/net/netfilter/${key}`, "utf8").trim());
}

async function start(args: readonly string[]): Promise<ProxyDaemon> {
  const d = await ProxyDaemon.start({ kubeconfig, nodeName, netns: node.name, extraArgs: [...syncArgs, ...args] });
  daemons.push(d);
  return d;
}

describe("conntrack tuning", () => {
  it("sets the timeouts in the node's namespace, and never lowers nf_conntrack_max", async () => {
    const maxBefore = await sysctl("nf_conntrack_max");
    const establishedHere = here("nf_conntrack_tcp_timeout_established");
    const d = await start([
      "--conntrack-max-per-core", "1", "--conntrack-min", "1000",
      "--conntrack-tcp-timeout-established", "12345s", "--conntrack-tcp-timeout-close-wait", "777s",
      "--conntrack-tcp-be-liberal", "--conntrack-udp-timeout", "33s", "--conntrack-udp-timeout-stream", "1m39s",
    ]);
    const line = await d.waitForLog((l) => l["msg"] === "conntrack tuned", "the conntrack log line");
    expect(await sysctl("nf_conntrack_tcp_timeout_established")).toBe(12345);
    expect(await sysctl("nf_conntrack_tcp_timeout_close_wait")).toBe(777);
    expect(await sysctl("nf_conntrack_tcp_be_liberal")).toBe(1);
    expect(await sysctl("nf_conntrack_udp_timeout")).toBe(33);
    expect(await sysctl("nf_conntrack_udp_timeout_stream")).toBe(99);
    // 1 per core with a floor of 1000 is below the table's size: it stays.
    expect(await sysctl("nf_conntrack_max")).toBe(maxBefore);
    expect(line["set"]).toMatchObject({ "net.netfilter.nf_conntrack_tcp_timeout_established": 12345, "net.netfilter.nf_conntrack_udp_timeout_stream": 99 });
    expect(Object.keys(line["set"] as object)).not.toContain("net.netfilter.nf_conntrack_max");
    // Only the node's namespace was changed.
    expect(here("nf_conntrack_tcp_timeout_established")).toBe(establishedHere);
    await d.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
    // With be_liberal on, kube-proxy writes no DROP for INVALID packets, and neither does signpost.
    expect(await node.run("iptables-save", ["-t", "filter"])).not.toContain("--ctstate INVALID -j DROP");
    await d.stop();
  });

  it("logs a refused raise of nf_conntrack_max by name and serves on", async () => {
    const maxBefore = await sysctl("nf_conntrack_max");
    const d = await start(["--conntrack-max-per-core", "100000000", "--conntrack-tcp-timeout-established", "0"]);
    const warning = await d.waitForLog((l) => l["key"] === "net.netfilter.nf_conntrack_max", "the refused write");
    expect(warning).toMatchObject({ level: 40, value: 1_048_576 });
    expect(await sysctl("nf_conntrack_max")).toBe(maxBefore);
    await d.waitForLog((l) => l["msg"] === "rules synced", "the first sync after the refusal");
    await d.stop();
  });

  it("with --init-only, tunes conntrack and sets route_localnet in the node's namespace, then exits without the API server", async () => {
    await node.run("sysctl", ["-w", "net.ipv4.conf.all.route_localnet=0"]);
    const r = await runProxyCommand(["--init-only", "--iptables-netns", node.name, "--hostname-override", nodeName, "--conntrack-tcp-timeout-close-wait", "555s"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await sysctl("nf_conntrack_tcp_timeout_close_wait")).toBe(555);
    expect((await node.run("sysctl", ["-n", "net.ipv4.conf.all.route_localnet"])).trim()).toBe("1");
    expect(r.stdout).toContain("node initialized (--init-only)");
  });

  it("run inside the node's namespace, as the DaemonSet's init container runs, writes /proc/sys there and names a refused write with its file", async () => {
    await node.run("sysctl", ["-w", "net.ipv4.conf.all.route_localnet=0"]);
    const maxBefore = await sysctl("nf_conntrack_max");
    const closeWaitHere = here("nf_conntrack_tcp_timeout_close_wait");
    const r = await runProxyCommand(["--init-only", "--hostname-override", nodeName, "--conntrack-tcp-timeout-close-wait", "444s", "--conntrack-max-per-core", "100000000"], { netns: node.name });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await sysctl("nf_conntrack_tcp_timeout_close_wait")).toBe(444);
    expect((await node.run("sysctl", ["-n", "net.ipv4.conf.all.route_localnet"])).trim()).toBe("1");
    expect(here("nf_conntrack_tcp_timeout_close_wait")).toBe(closeWaitHere);
    // Outside the host's namespace nf_conntrack_max is read-only: refused, logged by name, and the rest is set.
    expect(await sysctl("nf_conntrack_max")).toBe(maxBefore);
    const refused = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l["key"] === "net.netfilter.nf_conntrack_max");
    expect(refused).toMatchObject({ level: 40, value: 1_048_576 });
    expect(String(refused?.["reason"])).toContain("cannot write /proc/sys/net/netfilter/nf_conntrack_max");
    expect(r.stdout).toContain("node initialized (--init-only)");
  });
});
