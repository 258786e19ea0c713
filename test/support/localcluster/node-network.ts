// The local cluster's network, made of network namespaces: an underlay bridge in the harness
// namespace (where the control plane runs) links every node; each node namespace routes its own
// pod CIDR to per-pod veths (routed, no pod bridge, so every pod packet crosses the node's
// netfilter as on a real node) and the other nodes' pod CIDRs via their node IPs (host-gw).
// Nothing here has a route off the machine.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { LocalClusterError } from "./cluster-error.ts";

async function ip(args: readonly string[]): Promise<void> {
  try {
    await execa("ip", [...args]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new LocalClusterError(`ip ${args.join(" ")}`, stderr.trim() || String(err), { cause: err });
  }
}

async function sysctl(netns: string, key: string, value: string): Promise<void> {
  await ip(["netns", "exec", netns, "sysctl", "-q", "-w", `${key}=${value}`]);
}

export async function createNetns(name: string): Promise<void> {
  await ip(["netns", "add", name]);
  await ip(["-n", name, "link", "set", "lo", "up"]);
}

export async function deleteNetns(name: string): Promise<void> {
  const pids = (await execa("ip", ["netns", "pids", name], { reject: false })).stdout.split("\n").filter((p) => p !== "");
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  await execa("ip", ["netns", "del", name], { reject: false });
  await rm(`/etc/netns/${name}`, { recursive: true, force: true });
}

/** Gives a namespace its own /etc/resolv.conf (and /etc/hosts), bind-mounted by `ip netns exec`. */
export async function writeNetnsEtc(name: string, files: { resolvConf?: string; hosts?: string }): Promise<void> {
  await mkdir(`/etc/netns/${name}`, { recursive: true });
  if (files.resolvConf !== undefined) await writeFile(`/etc/netns/${name}/resolv.conf`, files.resolvConf);
  if (files.hosts !== undefined) await writeFile(`/etc/netns/${name}/hosts`, files.hosts);
}

function vethNames(): { inside: string; outside: string } {
  const id = randomBytes(4).toString("hex");
  return { inside: `vi${id}`, outside: `vo${id}` };
}

export interface Underlay {
  readonly bridge: string;
  /** The harness's own address on the underlay: where nodes reach the API server. */
  readonly gateway: string;
  readonly prefixLength: number;
}

/** The underlay bridge in the namespace this process runs in (the harness namespace). */
export async function createUnderlay(bridge: string, gateway: string, prefixLength: number): Promise<Underlay> {
  await ip(["link", "add", bridge, "type", "bridge"]);
  await ip(["addr", "add", `${gateway}/${prefixLength}`, "dev", bridge]);
  await ip(["link", "set", bridge, "up"]);
  return { bridge, gateway, prefixLength };
}

export async function deleteUnderlay(u: Underlay): Promise<void> {
  await execa("ip", ["link", "del", u.bridge], { reject: false });
}

/**
 * A host on the underlay: a namespace with eth0 on the bridge and a default route to the
 * harness, which itself has no route out, so stray packets die there.
 */
export async function attachHost(netns: string, u: Underlay, address: string): Promise<void> {
  const { inside, outside } = vethNames();
  await ip(["link", "add", inside, "type", "veth", "peer", "name", outside]);
  await ip(["link", "set", inside, "netns", netns]);
  await ip(["link", "set", outside, "master", u.bridge]);
  await ip(["link", "set", outside, "up"]);
  await ip(["-n", netns, "link", "set", inside, "name", "eth0"]);
  await ip(["-n", netns, "addr", "add", `${address}/${u.prefixLength}`, "dev", "eth0"]);
  await ip(["-n", netns, "link", "set", "eth0", "up"]);
  await ip(["-n", netns, "route", "add", "default", "via", u.gateway]);
}

/** Turns a host namespace into a node: it forwards, and answers ARP for its pods' gateway. */
export async function makeNode(netns: string): Promise<void> {
  await sysctl(netns, "net.ipv4.ip_forward", "1");
  await sysctl(netns, "net.ipv4.conf.all.rp_filter", "0");
  await sysctl(netns, "net.ipv4.conf.default.rp_filter", "0");
}

/** host-gw: `cidr` is reached through `via`, in the namespace given (null: this one). */
export async function addRoute(netns: string | null, cidr: string, via: string): Promise<void> {
  await ip([...(netns === null ? [] : ["-n", netns]), "route", "replace", cidr, "via", via]);
}

export async function deleteRoute(netns: string | null, cidr: string): Promise<void> {
  await execa("ip", [...(netns === null ? [] : ["-n", netns]), "route", "del", cidr], { reject: false });
}

/** The link-local gateway every pod routes through; the node's veth answers ARP for it. */
export const POD_GATEWAY = "169.254.1.1";

/**
 * Wires a pod namespace to its node: eth0 with the pod IP as a /32, a default route via the
 * link-local gateway, and on the node a /32 route back through the pod's veth.
 */
export async function attachPod(podNetns: string, nodeNetns: string, podIP: string): Promise<string> {
  const { inside, outside } = vethNames();
  await ip(["-n", nodeNetns, "link", "add", outside, "type", "veth", "peer", "name", inside]);
  await ip(["-n", nodeNetns, "link", "set", inside, "netns", podNetns]);
  await sysctl(nodeNetns, `net.ipv4.conf.${outside}.proxy_arp`, "1");
  await sysctl(nodeNetns, `net.ipv4.conf.${outside}.rp_filter`, "0");
  await ip(["-n", nodeNetns, "link", "set", outside, "up"]);
  await ip(["-n", nodeNetns, "route", "add", `${podIP}/32`, "dev", outside]);
  await ip(["-n", podNetns, "link", "set", inside, "name", "eth0"]);
  await ip(["-n", podNetns, "addr", "add", `${podIP}/32`, "dev", "eth0"]);
  await ip(["-n", podNetns, "link", "set", "eth0", "up"]);
  await ip(["-n", podNetns, "route", "add", POD_GATEWAY, "dev", "eth0", "scope", "link"]);
  await ip(["-n", podNetns, "route", "add", "default", "via", POD_GATEWAY, "dev", "eth0"]);
  return outside;
}
