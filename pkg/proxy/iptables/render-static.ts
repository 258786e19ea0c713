// The fixed part of the rule set: top-level chains, the masquerade machinery, the forwarding
// rules, the localnet guard, the tail jump to KUBE-NODEPORTS, the canary, and the jumps from the
// built-in chains.

import type { RenderConfig } from "./render-config.ts";
import type { ParsedCIDR } from "../../model/ip.ts";
import { cidrContainsParsed, formatIP, parseCIDR, parseIPSloppy } from "../../model/ip.ts";
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  MASQ_MARK,
} from "./chain-names.ts";
import { comment, quoteComment, TableBuffer, tableSection } from "./restore-writer.ts";

/** Top-level chains of the filter table, always written whole. */
export const filterTopChains = [KUBE_NODEPORTS, KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_PROXY_FIREWALL] as const;
/** Top-level chains of the nat table, always written whole. */
export const natTopChains = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;
/** Tables holding the canary chain; the proxier checks that it still exists in each. */
export const canaryTables = ["filter", "nat"] as const;

/**
 * The canary's one rule. A chain that is gone tells of `iptables -X` (a firewall reload); a
 * chain that is empty tells of `iptables -F`, which deletes no chain and would go unseen by an
 * empty canary. Nothing jumps to the chain, so the rule never sees a packet.
 */
export const canaryRuleComment = "signpost canary: if this rule is gone, the table was flushed";

function writeCanary(table: TableBuffer): void {
  table.declareChain(KUBE_PROXY_CANARY);
  table.append(KUBE_PROXY_CANARY, comment(canaryRuleComment), "-j RETURN");
}

/** iptables-restore input that writes the canary of every canary table and nothing else. */
export function canaryRestoreText(): string {
  const sections: string[] = [];
  for (const name of canaryTables) {
    const table = new TableBuffer();
    writeCanary(table);
    sections.push(tableSection(name, [table]));
  }
  return `${sections.join("\n")}\n`;
}

/**
 * Whether node ports answer on 127.0.0.0/8, which needs route_localnet and so the localnet guard.
 * As in kube-proxy, IPv4 only: IPv6 has no route_localnet, and ::1 is never routed off the node.
 */
export function localnetGuarded(config: Pick<RenderConfig, "family" | "localhostNodePorts">): boolean {
  return config.family === "IPv4" && config.localhostNodePorts;
}

export const localnetGuardComment = "block incoming localnet connections";
const loopbackNet = "127.0.0.0/8";

/**
 * kube-proxy's (and the kubelet's) rule against CVE-2020-8558: with route_localnet set, a
 * neighbour could send packets to 127.0.0.1 and reach whatever listens on the node's loopback.
 * Drop what comes to 127.0.0.0/8 from elsewhere unless the nat table DNATed it or it belongs to
 * a connection already allowed. Byte for byte the kubelet's rule, so either may own the chain.
 */
function writeLocalnetGuard(filter: TableBuffer): void {
  filter.declareChain(KUBE_FIREWALL);
  filter.append(
    KUBE_FIREWALL,
    comment(localnetGuardComment),
    `-d ${loopbackNet}`,
    `! -s ${loopbackNet}`,
    "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT",
    "-j DROP",
  );
}

export function writeFilterStatic(filter: TableBuffer, config: RenderConfig, canary = true): void {
  for (const chain of filterTopChains) filter.declareChain(chain);
  if (canary) writeCanary(filter);
  if (localnetGuarded(config)) writeLocalnetGuard(filter);
  if (config.dropInvalid) filter.append(KUBE_FORWARD, "-m conntrack --ctstate INVALID", "-j DROP");
  // Forward what kube-proxy marked, even under a FORWARD policy of DROP, then the rest of its flow.
  filter.append(KUBE_FORWARD, comment("kubernetes forwarding rules"), `-m mark --mark ${MASQ_MARK}/${MASQ_MARK}`, "-j ACCEPT");
  filter.append(KUBE_FORWARD, comment("kubernetes forwarding conntrack rule"), "-m conntrack --ctstate RELATED,ESTABLISHED", "-j ACCEPT");
}

export function writeNatStatic(nat: TableBuffer, config: RenderConfig, canary = true): void {
  for (const chain of natTopChains) nat.declareChain(chain);
  if (canary) writeCanary(nat);
  // Masquerade only marked packets, and clear the mark so a re-traversal does not masquerade twice.
  nat.append(KUBE_POSTROUTING, `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK}`, "-j RETURN");
  nat.append(KUBE_POSTROUTING, `-j MARK --xor-mark ${MASQ_MARK}`);
  nat.append(
    KUBE_POSTROUTING,
    comment("kubernetes service traffic requiring SNAT"),
    config.masqueradeRandomFully ? "-j MASQUERADE --random-fully" : "-j MASQUERADE",
  );
  writeMarkMasqRule(nat);
  if (localnetGuarded(config)) {
    // The guard spares DNATed packets, so a neighbour's packet to 127.0.0.1:<node port> would
    // still reach the Service: node ports on loopback are the node's own (a deliberate step
    // beyond kube-proxy). Left un-DNATed, the packet meets the guard in INPUT and is dropped.
    nat.append(KUBE_NODEPORTS, comment("localhost node ports are for the node itself"), `-d ${loopbackNet}`, `! -s ${loopbackNet}`, "-j RETURN");
  }
}

/** The rule of KUBE-MARK-MASQ, the one top-level chain that per-Service chains jump to. */
export function writeMarkMasqRule(nat: TableBuffer): void {
  nat.append(KUBE_MARK_MASQ, `-j MARK --or-mark ${MASQ_MARK}`);
}

/** The --nodeport-addresses CIDRs of this family; none of this family means every address. */
function nodePortCIDRs(config: RenderConfig): ParsedCIDR[] {
  const out: ParsedCIDR[] = [];
  for (const text of config.nodePortAddresses) {
    const c = parseCIDR(text);
    if (c !== null && c.family === config.family) out.push(c);
  }
  return out;
}

/** Whether node ports answer on every local address (no CIDR of this family, or a /0). */
export function nodePortsOnAllAddresses(config: RenderConfig): boolean {
  const cidrs = nodePortCIDRs(config);
  return cidrs.length === 0 || cidrs.some((c) => c.prefix === 0);
}

/**
 * Whether node ports answer on 127.0.0.1, which needs route_localnet: localhost node ports on,
 * IPv4, and --nodeport-addresses matching every address or one CIDR holding 127.0.0.1 (kube-proxy's
 * ContainsIPv4Loopback).
 */
export function nodePortsOnLoopback(config: RenderConfig): boolean {
  if (!localnetGuarded(config)) return false;
  const loopback = parseIPSloppy("127.0.0.1");
  return nodePortsOnAllAddresses(config) || (loopback !== null && nodePortCIDRs(config).some((c) => cidrContainsParsed(c, loopback)));
}

/**
 * The local addresses that node ports answer on, when --nodeport-addresses limits them: the
 * interface addresses in those CIDRs (the Node's addresses when the interfaces are unknown).
 */
export function nodePortIPs(config: RenderConfig): string[] {
  const cidrs = nodePortCIDRs(config);
  const out: string[] = [];
  for (const text of config.interfaceIPs ?? config.nodeIPs) {
    const ip = parseIPSloppy(text);
    if (ip === null || ip.family !== config.family) continue;
    if (!cidrs.some((c) => cidrContainsParsed(c, ip))) continue;
    const canonical = formatIP(ip);
    const loopback = config.family === "IPv4" ? ip.value >> 24n === 127n : canonical === "::1";
    // Localhost node ports need route_localnet, which exists for IPv4 only.
    if (loopback && (config.family === "IPv6" || !config.localhostNodePorts)) continue;
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

const nodePortsComment = comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");

/** The jump to KUBE-NODEPORTS, which must stay the last rule of KUBE-SERVICES. */
export function writeNodePortsTail(nat: TableBuffer, config: RenderConfig): void {
  if (nodePortsOnAllAddresses(config)) {
    const notLoopback =
      config.family === "IPv6" ? "! -d ::1/128" : config.localhostNodePorts ? "" : "! -d 127.0.0.0/8";
    nat.append(KUBE_SERVICES, nodePortsComment, "-m addrtype --dst-type LOCAL", notLoopback, `-j ${KUBE_NODEPORTS}`);
    return;
  }
  for (const ip of nodePortIPs(config)) {
    nat.append(KUBE_SERVICES, nodePortsComment, `-d ${ip}`, `-j ${KUBE_NODEPORTS}`);
  }
}

export interface BuiltinJump {
  readonly table: "filter" | "nat";
  readonly chain: "PREROUTING" | "INPUT" | "FORWARD" | "OUTPUT" | "POSTROUTING";
  /** Our chain it jumps to. */
  readonly target: string;
  /** The rule without "-A CHAIN", ready for iptables -C / -I. */
  readonly rule: string;
  /** Its comment, as iptables-save prints it; null for the kubelet's bare jumps. */
  readonly comment: string | null;
}

function jump(table: BuiltinJump["table"], chain: BuiltinJump["chain"], target: string, text: string, extra = ""): BuiltinJump {
  const prefix = extra === "" ? "" : `${extra} `;
  const quoted = quoteComment(text);
  return { table, chain, target, rule: `${prefix}-m comment --comment ${quoted} -j ${target}`, comment: quoted };
}

/** A jump without a comment, as the kubelet writes its own. */
function bareJump(table: BuiltinJump["table"], chain: BuiltinJump["chain"], target: string): BuiltinJump {
  return { table, chain, target, rule: `-j ${target}`, comment: null };
}

const ctNew = "-m conntrack --ctstate NEW";

/**
 * The jumps from the built-in chains into ours, in the order they end up in each built-in chain
 * (kube-proxy prepends them, so the executor inserts them in reverse to reach this order).
 */
export const builtinJumps: readonly BuiltinJump[] = [
  jump("filter", "INPUT", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", ctNew),
  jump("filter", "INPUT", KUBE_NODEPORTS, "kubernetes health check service ports"),
  jump("filter", "INPUT", KUBE_EXTERNAL_SERVICES, "kubernetes externally-visible service portals", ctNew),
  jump("filter", "FORWARD", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", ctNew),
  jump("filter", "FORWARD", KUBE_FORWARD, "kubernetes forwarding rules"),
  jump("filter", "FORWARD", KUBE_SERVICES, "kubernetes service portals", ctNew),
  jump("filter", "FORWARD", KUBE_EXTERNAL_SERVICES, "kubernetes externally-visible service portals", ctNew),
  jump("filter", "OUTPUT", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", ctNew),
  jump("filter", "OUTPUT", KUBE_SERVICES, "kubernetes service portals", ctNew),
  jump("nat", "PREROUTING", KUBE_SERVICES, "kubernetes service portals"),
  jump("nat", "OUTPUT", KUBE_SERVICES, "kubernetes service portals"),
  jump("nat", "POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules"),
];

/**
 * The jumps to the localnet guard, the kubelet's exactly (no comment), so that a node where the
 * kubelet also keeps the guard holds one jump per chain, not two. First in INPUT and OUTPUT,
 * where the kubelet's prepended jumps end up: before anything that accepts.
 */
export const localnetGuardJumps: readonly BuiltinJump[] = [bareJump("filter", "INPUT", KUBE_FIREWALL), bareJump("filter", "OUTPUT", KUBE_FIREWALL)];

/** The jumps from the built-in chains that a proxier with this config needs, in their order. */
export function builtinJumpsFor(config: Pick<RenderConfig, "family" | "localhostNodePorts">): readonly BuiltinJump[] {
  return localnetGuarded(config) ? [...localnetGuardJumps, ...builtinJumps] : builtinJumps;
}

/** Jumps of one table as "-A CHAIN ..." lines, for a restore into a fresh namespace. */
export function builtinJumpLines(table: BuiltinJump["table"], jumps: readonly BuiltinJump[] = builtinJumps): string[] {
  return jumps.filter((j) => j.table === table).map((j) => `-A ${j.chain} ${j.rule}`);
}

/**
 * Some of builtinJumps as "-I CHAIN ..." lines that prepend them, last first, so that they end
 * up in builtinJumps' order above whatever the chain holds (kube-proxy prepends its jumps too).
 */
export function builtinJumpInserts(table: BuiltinJump["table"], jumps: readonly BuiltinJump[]): string[] {
  return jumps.filter((j) => j.table === table).reverse().map((j) => `-I ${j.chain} ${j.rule}`);
}
