// signpost-proxy when things go wrong around it, against the real kube-apiserver and netfilter:
// rules flushed by hand come back, a restart breaks neither an established connection nor new
// ones, and --cleanup removes everything it installed. The daemon is configured by a
// KubeProxyConfiguration file here, as a DaemonSet would configure it.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients, createNamespace } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { builtinJumpsFor } from "../../pkg/proxy/iptables/render-static.ts";
import { ProxyDaemon, runProxyCommand } from "../support/proxy-daemon.ts";
import { clusterIPOf, createNode, putSlice, serviceSpec, sliceSpec } from "../support/proxy-objects.ts";
import { backends, clusterCIDR, nodeIP, ProxyTopology, type Pod } from "../support/proxy-topology.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-res-${randomBytes(3).toString("hex")}`;

let ns = "";
let dir = "";
let topo: ProxyTopology;
let daemon: ProxyDaemon;
let a: Pod;
let b: Pod;
let client: Pod;
let ip = "";

beforeAll(async () => {
  ns = await createNamespace(c.core, "proxy-res");
  await createNode(c.core, nodeName, nodeIP);
  dir = await mkdtemp(join(tmpdir(), "signpost-proxy-res-"));
  const config = join(dir, "kube-proxy.yaml");
  await writeFile(
    config,
    [
      "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
      "kind: KubeProxyConfiguration",
      "mode: iptables",
      `clusterCIDR: ${clusterCIDR}`,
      "iptables:",
      "  minSyncPeriod: 100ms",
      "  syncPeriod: 1s",
      "ipvs:",
      "  scheduler: rr",
      "conntrack:",
      "  maxPerCore: null",
      "",
    ].join("\n"),
  );
  topo = await ProxyTopology.create("pxr");
  a = await topo.addPod("pxr-a", 1);
  b = await topo.addPod("pxr-b", 2);
  client = await topo.addPod("pxr-client", 3);
  await topo.serve(a, 8080);
  await topo.serve(b, 8080);
  await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "web", [{ name: "http", port: 80 }]) });
  ip = await clusterIPOf(c.core, ns, "web");
  await putSlice(c.discovery, sliceSpec(ns, "web", [{ name: "http", port: 8080 }], [a, b].map((p) => ({ ip: p.ip, nodeName }))));
  daemon = await ProxyDaemon.start({ kubeconfig, nodeName, netns: topo.node.name, extraArgs: ["--config", config] });
  await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 })).length === 1, "the service answers");
});

afterAll(async () => {
  await daemon?.stop();
  await topo?.destroy();
  await rm(dir, { recursive: true, force: true });
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe("signpost-proxy under disturbance", () => {
  it("reports the config fields it ignores, and refuses one it does not implement, by name", async () => {
    expect(daemon.logs().find((l) => l["msg"] === "config fields present and ignored")?.["ignored"]).toEqual([
      "ipvs: configures another proxy mode; signpost-proxy runs the iptables mode",
    ]);
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n");
    const out = await runProxyCommand(["--config", bad, "--hostname-override", "x"]);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain(`SP_BAD_CONFIG: ${bad}: mode: "ipvs" is not supported; signpost-proxy implements the iptables mode only`);
  });

  it("restores its rules after someone flushes and deletes every chain", async () => {
    // As a person would: flush, then delete the chains. The daemon may put its jumps back in
    // between, and then `-X` fails (chain busy): flush and delete again until it goes through.
    for (const table of ["nat", "filter"]) {
      for (let attempt = 1; ; attempt++) {
        await topo.node.run("iptables", ["-w", "5", "-t", table, "-F"]);
        const deleted = await topo.node.run("iptables", ["-w", "5", "-t", table, "-X"]).then(() => true, () => false);
        if (deleted) break;
        if (attempt === 10) throw new Error(`iptables -t ${table} -X kept failing`);
      }
    }
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 })).length === 1, "the service answers again");
    // Which notices first depends on timing: the canary check before a sync, or a restore that
    // the kernel refuses because its chains are gone, which also forces a full sync.
    const noticed = daemon.logs().some((l) => {
      const msg = String(l["msg"]);
      return msg.includes("the canary chain is gone or empty") || msg.includes("a full sync follows");
    });
    expect(noticed, "the flush was noticed by the canary or by a refused restore").toBe(true);
    const saved = await topo.node.run("iptables-save", ["-t", "nat"]);
    expect(saved).toContain("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
  });

  it("restores them after a flush that deletes no chain (iptables -F)", async () => {
    const before = daemon.logs().length;
    await topo.node.run("iptables", ["-w", "5", "-t", "nat", "-F"]);
    await daemon.waitForLog((l) => l["msg"] === "rules synced" && Array.isArray(l["reasons"]) && l["reasons"].includes("canary"), "a full sync after the flush", before);
    await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 })).length === 1, "the service answers again");
  });

  it("keeps an established connection and serves new ones while it restarts", async () => {
    const conn = topo.longClient(client.ns, ip, 80);
    const greeting = await conn.next();
    const backend = greeting.split(" ")[0] ?? "";
    expect(["pxr-a", "pxr-b"]).toContain(backend);
    expect(await conn.send("before")).toBe(`${backend} before`);

    const failures: string[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        for (const o of await topo.probe(client.ns, "tcp", ip, 80, { count: 5, timeoutMs: 2000 })) if (o.reply === undefined) failures.push(o.error ?? "?");
      }
    })();

    expect(await daemon.stop()).toBe(0);
    expect(await conn.send("while stopped")).toBe(`${backend} while stopped`);
    const mark = daemon.logs().length;
    daemon.launch();
    await daemon.waitForLog((l) => l["msg"] === "rules synced" && l["kind"] === "full", "the first sync after the restart", mark);
    await eventually(() => daemon.logs().slice(mark).filter((l) => l["msg"] === "rules synced").length >= 2, "a sync after the first");
    expect(await conn.send("after")).toBe(`${backend} after`);
    running = false;
    await traffic;
    expect(failures).toEqual([]);
    conn.close();
    // The restarted daemon found its jumps from the built-in chains in place: none doubled.
    const saved = await topo.node.run("iptables-save", []);
    for (const jump of builtinJumpsFor({ family: "IPv4", localhostNodePorts: true })) expect(saved.split("\n").filter((l) => l === `-A ${jump.chain} ${jump.rule}`), `${jump.table}/${jump.chain} -> ${jump.target}`).toHaveLength(1);
  });

  it("keeps live UDP flows across a restart and deletes only the flow to an endpoint gone meanwhile", async () => {
    await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "udp", [{ name: "dns", port: 53, protocol: "UDP" }]) });
    const udpIP = await clusterIPOf(c.core, ns, "udp");
    await putSlice(c.discovery, sliceSpec(ns, "udp", [{ name: "dns", port: 8080, protocol: "UDP" }], [a, b].map((p) => ({ ip: p.ip, nodeName }))));
    await eventually(async () => backends(await topo.probe(client.ns, "udp", udpIP, 53, { timeoutMs: 1000 })).length === 1, "the UDP service answers");
    // Flows from fixed source ports until one sits on each backend: a flow keeps its backend
    // for as long as its conntrack entry lives.
    const flows = new Map<string, number>();
    for (let port = 41000; flows.size < 2 && port < 41100; port++) {
      const [backend] = backends(await topo.probe(client.ns, "udp", udpIP, 53, { localPort: port, timeoutMs: 2000 }));
      if (backend !== undefined && !flows.has(backend)) flows.set(backend, port);
    }
    expect([...flows.keys()].sort()).toEqual(["pxr-a", "pxr-b"]);
    const entries = async () => (await topo.node.run("conntrack", ["-L", "-p", "udp", "-f", "ipv4"]).catch(() => "")).split("\n").filter((l) => l.includes(`dst=${udpIP} `));
    const entryOf = (lines: readonly string[], port: number | undefined) => lines.find((l) => l.includes(`sport=${port} `));

    expect(await daemon.stop()).toBe(0);
    // While the proxy is down, b leaves the Service.
    await putSlice(c.discovery, sliceSpec(ns, "udp", [{ name: "dns", port: 8080, protocol: "UDP" }], [{ ip: a.ip, nodeName }]));
    const before = await entries();
    expect(entryOf(before, flows.get("pxr-a")), before.join("\n")).toContain(`src=${a.ip} `);
    expect(entryOf(before, flows.get("pxr-b")), before.join("\n")).toContain(`src=${b.ip} `);
    const mark = daemon.logs().length;
    daemon.launch();
    const reconciled = await daemon.waitForLog((l) => l["msg"] === "conntrack table reconciled after start", "the reconciliation", mark);
    await daemon.waitForLog((l) => l["msg"] === "stale UDP conntrack entries deleted", "the deletion", mark);
    const after = await entries();
    // a's flow lives on, the same entry; b's is gone, so its next packet goes to a.
    expect(entryOf(after, flows.get("pxr-a")), after.join("\n")).toContain(`src=${a.ip} `);
    expect(entryOf(after, flows.get("pxr-b")), after.join("\n")).toBeUndefined();
    expect(reconciled["stale"]).toBeGreaterThanOrEqual(1);
    expect(backends(await topo.probe(client.ns, "udp", udpIP, 53, { localPort: flows.get("pxr-a"), timeoutMs: 2000 }))).toEqual(["pxr-a"]);
    expect(backends(await topo.probe(client.ns, "udp", udpIP, 53, { localPort: flows.get("pxr-b"), timeoutMs: 2000 }))).toEqual(["pxr-a"]);
  });

  it("removes every rule and chain it installed with --cleanup, and only those", async () => {
    await daemon.stop();
    await topo.node.run("iptables", ["-w", "5", "-t", "nat", "-N", "OTHER-CHAIN"]);
    await topo.node.run("iptables", ["-w", "5", "-t", "nat", "-A", "PREROUTING", "-j", "OTHER-CHAIN"]);
    const out = await runProxyCommand(["--cleanup", "--iptables-netns", topo.node.name]);
    expect(out.exitCode, out.stderr).toBe(0);
    const saved = await topo.node.run("iptables-save", []);
    expect(saved).not.toMatch(/KUBE-/);
    expect(saved).toContain("-A PREROUTING -j OTHER-CHAIN");
    // No DNAT any more: the connection goes nowhere (a timeout, or an ICMP unreachable from the
    // route beyond the node, depending on the namespaces' forwarding); no backend answers.
    const after = await topo.probe(client.ns, "tcp", ip, 80, { timeoutMs: 1000 });
    expect(backends(after), JSON.stringify(after)).toEqual([]);
  });
});
