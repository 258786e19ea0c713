// signpost-proxy fed objects at the edges of what the real kube-apiserver accepts: the longest
// names, Unicode annotations, a Service with 1,000 ports, an EndpointSlice for a Service that does
// not exist, slices without endpoints or addresses, a load balancer's loopback ingress IP. What the API server accepts must be
// programmed (real traffic, rules in iptables-save with their comments whole) or logged by name;
// what it refuses is asserted as refused, so a newer API server that relaxes a rule shows up here.
import { randomBytes } from "node:crypto";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { ProxyDaemon } from "../support/proxy-daemon.ts";
import { clusterIPOf, createNode, putSlice, serviceSpec, sliceSpec } from "../support/proxy-objects.ts";
import { backends, clusterCIDR, nodeIP, ProxyTopology, type Pod } from "../support/proxy-topology.ts";
import { chainsOf, serviceEntryRules } from "../support/proxy-rules.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-bad-${randomBytes(3).toString("hex")}`;

/** A DNS label of exactly 63 characters: the longest namespace and Service name the API allows. */
function longest(prefix: string): string {
  const tag = `${prefix}-${randomBytes(3).toString("hex")}-`;
  return `${tag}${"x".repeat(62 - tag.length)}z`;
}
/**
 * The longest Service port name. A container port's name is an IANA service name (15
 * characters), but a Service's and an EndpointSlice's port names are DNS labels: 63.
 */
const longPortName = `port-${"n".repeat(57)}z`;
const unicode = { "signpost.test/unicode": "名前 — ünïcödé 🚀 \u202eRTL \"quoted\" 'single' \\ back\nnew line\t$(reboot)`id`" };

let ns = "";
let topo: ProxyTopology;
let daemon: ProxyDaemon;
let a: Pod;
let client: Pod;

beforeAll(async () => {
  ns = longest("pxbad");
  await c.core.createNamespace({ body: { metadata: { name: ns, annotations: unicode } } });
  await createNode(c.core, nodeName, nodeIP);
  topo = await ProxyTopology.create("pxb");
  a = await topo.addPod("pxb-a", 1);
  client = await topo.addPod("pxb-client", 3);
  await topo.serve(a, 8080);
  daemon = await ProxyDaemon.start({
    kubeconfig,
    nodeName,
    netns: topo.node.name,
    extraArgs: ["--cluster-cidr", clusterCIDR, "--min-sync-period", "100ms", "--sync-period", "2s"],
  });
  await daemon.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
});

afterAll(async () => {
  await daemon?.stop();
  await topo?.destroy();
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
});

/** The status code and message of a refused API call. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; body?: string };
    const body = JSON.parse(e.body ?? "{}") as { message?: string };
    return { code: e.code ?? 0, message: body.message ?? "" };
  }
  throw new Error("the API server accepted what it should refuse");
}

async function answers(ip: string, port: number): Promise<void> {
  await eventually(async () => backends(await topo.probe(client.ns, "tcp", ip, port, { timeoutMs: 1000 }))[0] === "pxb-a", `${ip}:${port} answers`);
}

async function refused(ip: string, port: number): Promise<void> {
  await eventually(async () => (await topo.probe(client.ns, "tcp", ip, port, { timeoutMs: 1000 }))[0]?.error === "ECONNREFUSED", `${ip}:${port} is refused`);
}

function slice(serviceName: string, name: string, patch: Partial<V1EndpointSlice>): V1EndpointSlice {
  const base = sliceSpec(ns, serviceName, [{ name: "http", port: 8080 }], [{ ip: a.ip, nodeName }]);
  return { ...base, ...patch, metadata: { ...base.metadata, name } };
}

describe("signpost-proxy at the edges of what the API server accepts", () => {
  it("programs a Service whose namespace, name and port name are as long as the API allows, with Unicode annotations, and keeps its comments whole", async () => {
    const name = longest("svc");
    expect([ns.length, name.length, longPortName.length]).toEqual([63, 63, 63]);
    // One character more is refused: these really are the longest.
    const tooLong = await refusal(c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, `${name}x`, [{ name: "http", port: 80 }]) }));
    expect(tooLong).toMatchObject({ code: 422, message: expect.stringContaining("must be no more than 63 characters") as unknown });
    const longPort = await refusal(c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "port-name", [{ name: `${longPortName}x`, port: 80 }]) }));
    expect(longPort).toMatchObject({ code: 422, message: expect.stringContaining("must be no more than 63 characters") as unknown });
    // A LoadBalancer with a Local policy and source ranges gets the longest comments of all.
    const spec = serviceSpec(ns, name, [{ name: longPortName, port: 80 }], { type: "LoadBalancer", externalTrafficPolicy: "Local", loadBalancerSourceRanges: ["192.168.50.0/24"] });
    await c.core.createNamespacedService({ namespace: ns, body: { ...spec, metadata: { ...spec.metadata, annotations: unicode } } });
    const s = sliceSpec(ns, name, [{ name: longPortName, port: 8080 }], [{ ip: a.ip, nodeName }]);
    // A slice name is the Service's plus a suffix: the longest the API allows is 253 characters.
    const sliceName = `${name}.${"s".repeat(253 - name.length - 1)}`;
    await putSlice(c.discovery, { ...s, metadata: { ...s.metadata, name: sliceName, annotations: { ...s.metadata?.annotations, ...unicode } } });
    const ip = await clusterIPOf(c.core, ns, name);
    await answers(ip, 80);

    const saved = await topo.node.run("iptables-save", []);
    const portName = `${ns}/${name}:${longPortName}`;
    expect(portName.length).toBe(191);
    // The comment names the whole Service port: neither cut short nor split into two arguments.
    const clusterRule = serviceEntryRules(chainsOf(saved)).find((r) => r.includes(`-d ${ip}/32`));
    expect(clusterRule).toContain(`-m comment --comment "${portName} cluster IP"`);
    const svcChain = /-j (KUBE-SVC-[A-Z0-9]+)/.exec(clusterRule ?? "")?.[1] ?? "";
    expect(chainsOf(saved).get(`nat/${svcChain}`)?.some((r) => r.includes(`--comment "${portName} -> ${a.ip}:8080"`))).toBe(true);
    const nodePortRule = (chainsOf(saved).get("nat/KUBE-NODEPORTS") ?? []).find((r) => r.includes(`"${portName}"`));
    expect(nodePortRule).toMatch(/-j KUBE-EXT-[A-Z0-9]{16}$/);
    const extChain = /-j (KUBE-EXT-[A-Z0-9]{16})$/.exec(nodePortRule ?? "")?.[1] ?? "";
    expect(chainsOf(saved).get(`nat/${extChain}`)).toContain(`-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${portName} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
    // Whichever rule mentions this Service names its port whole (the health check node port's
    // rule is per Service, so it names the Service whole).
    const mentions = saved.split("\n").filter((l) => l.includes(`${ns}/${name}`));
    expect(mentions.length).toBeGreaterThan(5);
    for (const line of mentions) expect(line.includes(`"${ns}/${name} health check node port"`) || line.includes(portName), line).toBe(true);
    // Every comment iptables-save prints is one quoted argument of at most 255 bytes.
    for (const line of saved.split("\n").filter((l) => l.includes('--comment "'))) expect(line).toMatch(/--comment "[^"]{1,255}"( |$)/);
  });

  it("programs a Service with 1,000 ports, carried by one EndpointSlice", async () => {
    const count = 1000;
    const ports = Array.from({ length: count }, (_, i) => ({ name: `p${i}`, port: 20000 + i }));
    await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "many", ports) });
    // Both accept far more than 1,000 ports (an EndpointSlice up to 20,000), so no cap applies here.
    const slicePorts = ports.map((p) => ({ name: p.name, port: 8080, protocol: "TCP" }));
    await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("many", "many-all", { ports: slicePorts }) });
    const ip = await clusterIPOf(c.core, ns, "many");
    await answers(ip, 20999);
    for (const port of [20000, 20500]) expect(backends(await topo.probe(client.ns, "tcp", ip, port))).toEqual(["pxb-a"]);
    const services = serviceEntryRules(chainsOf(await topo.node.run("iptables-save", [])));
    expect(services.filter((rule) => rule.includes(`"${ns}/many:p`)).length).toBe(count);
  });

  it("logs an EndpointSlice whose Service does not exist by name, and programs it once the Service appears", async () => {
    const logged = daemon.logs().length;
    await putSlice(c.discovery, slice("ghost", "ghost-manual", {}));
    const line = await daemon.waitForLog((l) => l["endpointSlice"] === `${ns}/ghost-manual`, "the orphaned slice logged", logged);
    expect(line["msg"]).toBe(`endpoint slice ${ns}/ghost-manual is not programmed: its Service ${ns}/ghost does not exist`);
    expect(serviceEntryRules(chainsOf(await topo.node.run("iptables-save", []))).some((r) => r.includes(`${ns}/ghost`))).toBe(false);

    await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "ghost", [{ name: "http", port: 80 }]) });
    await answers(await clusterIPOf(c.core, ns, "ghost"), 80);
    await daemon.waitForLog((l) => l["msg"] === `endpoint slice ${ns}/ghost-manual now has its Service ${ns}/ghost`, "the slice adopted", logged);
  });

  it("refuses an endpoint without addresses, and a Service whose slices have no endpoints or no ports gets none: refused at once", async () => {
    await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "hollow", [{ name: "http", port: 80 }]) });
    const r = await refusal(c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("hollow", "hollow-no-address", { endpoints: [{ addresses: [] }] }) }));
    expect(r.code).toBe(422);
    expect(r.message).toContain("endpoints[0].addresses: Required value: must contain at least 1 address");

    await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("hollow", "hollow-empty", { endpoints: [] }) });
    // A slice without ports means "all ports" to the API; no proxy can serve that, so no endpoint.
    const portless = slice("hollow", "hollow-portless", {});
    delete portless.ports;
    await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: portless });
    await refused(await clusterIPOf(c.core, ns, "hollow"), 80);
  });

  it("skips a load balancer's loopback ingress IP with a log line naming it, and serves the rest of the Service (a loopback external IP the API refuses)", async () => {
    // The API server refuses special addresses in spec.externalIPs (and in EndpointSlices)...
    const r = await refusal(c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "lo-external", [{ name: "http", port: 80 }], { externalIPs: ["127.0.0.1"] }) }));
    expect(r.code).toBe(422);
    expect(r.message).toContain('spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range');
    // ...but not in a load balancer's status, where a 127.0.0.1 would capture the node's own
    // loopback port 80 for this Service, and 169.254.169.254 every pod's metadata service.
    const logged = daemon.logs().length;
    await c.core.createNamespacedService({ namespace: ns, body: serviceSpec(ns, "lo-lb", [{ name: "http", port: 80 }], { type: "LoadBalancer" }) });
    await putSlice(c.discovery, slice("lo-lb", "lo-lb-manual", {}));
    const svc = await c.core.readNamespacedService({ namespace: ns, name: "lo-lb" });
    const lbIP = "192.168.50.80";
    await c.core.replaceNamespacedServiceStatus({ namespace: ns, name: "lo-lb", body: { ...svc, status: { loadBalancer: { ingress: [{ ip: "127.0.0.1" }, { ip: lbIP }, { ip: "169.254.169.254" }] } } } });

    const line = await daemon.waitForLog((l) => l["service"] === `${ns}/lo-lb` && l["level"] === 40, "the skipped ingress IPs logged", logged);
    expect(line["problems"]).toEqual(["status.loadBalancer.ingress 127.0.0.1 is a loopback address, skipped", "status.loadBalancer.ingress 169.254.169.254 is a link-local address, skipped"]);
    await answers(await clusterIPOf(c.core, ns, "lo-lb"), 80);
    await answers(lbIP, 80);
    const rules = serviceEntryRules(chainsOf(await topo.node.run("iptables-save", ["-t", "nat"]))).filter((rule) => rule.includes(`${ns}/lo-lb:http loadbalancer IP`));
    expect(rules.map((rule) => /-d (\S+)/.exec(rule)?.[1])).toEqual([`${lbIP}/32`]);
    // The node's own 127.0.0.1:80 stays its own: nothing listens there, and nothing captures it.
    expect(await topo.probe(topo.node, "tcp", "127.0.0.1", 80, { timeoutMs: 2000 })).toEqual([{ error: "ECONNREFUSED" }]);
  });

  it("refuses an address with leading zeros, which would be ambiguous (octal or decimal)", async () => {
    const body = slice("zeros", "zeros-legacy", { endpoints: [{ addresses: ["010.244.1.2"], nodeName }] });
    const r = await refusal(c.discovery.createNamespacedEndpointSlice({ namespace: ns, body }));
    expect(r.code).toBe(422);
    expect(r.message).toContain('endpoints[0].addresses[0]: Invalid value: "010.244.1.2": must not have leading 0s');
  });
});
