// Reads what the kernel holds in the node's network namespace, the same way for every
// contestant: iptables-save (signpost and kube-proxy's iptables mode) or nft (kube-proxy's
// nftables mode). A rule set is complete when it names every Service's ClusterIP and every
// endpoint address; the Service list (the rules of KUBE-SERVICES and of signpost's KUBE-DST
// chains it jumps to when it is split by destination prefix, or the service-ips map) is read first
// as a poll, and the whole table's endpoints only once that is complete.
import { execa } from "execa";
import type { BenchNode } from "./bench-node.ts";
import { iptablesTool, type RuleBackend } from "./contestants.ts";

const ipv4 = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g;

async function inNode(node: BenchNode, command: string, args: readonly string[]): Promise<string> {
  const r = await execa("ip", ["netns", "exec", node.node.name, command, ...args], { reject: false, maxBuffer: 2e9, timeout: 300_000 });
  // An absent chain, table or map is an empty rule set, not a failure: the daemon has not made it yet.
  return r.exitCode === 0 ? String(r.stdout) : "";
}

export function addressesIn(text: string): Set<string> {
  return new Set(text.match(ipv4) ?? []);
}

/** The command that lists the Services' part of the rules (for iptables, the nat table, filtered by serviceListOf). */
export function serviceListCommand(backend: RuleBackend): string[] {
  return backend === "iptables" ? fullNatCommand(backend) : ["nft", "list", "map", "ip", "kube-proxy", "service-ips"];
}

/** The Service list in serviceListCommand's output. */
export function serviceListOf(backend: RuleBackend, text: string): string {
  if (backend !== "iptables") return text;
  return text
    .split("\n")
    .filter((l) => l.startsWith("-A KUBE-SERVICES ") || l.startsWith("-A KUBE-DST-"))
    .join("\n");
}

/** The command that lists the whole NAT rule set. */
export function fullNatCommand(backend: RuleBackend): string[] {
  return backend === "iptables" ? [iptablesTool("iptables-save"), "-t", "nat"] : ["nft", "list", "table", "ip", "kube-proxy"];
}

async function runIn(node: BenchNode, argv: readonly string[]): Promise<string> {
  const [command = "", ...args] = argv;
  return inNode(node, command, args);
}

export async function serviceAddresses(node: BenchNode, backend: RuleBackend): Promise<Set<string>> {
  return addressesIn(serviceListOf(backend, await runIn(node, serviceListCommand(backend))));
}

export async function natAddresses(node: BenchNode, backend: RuleBackend): Promise<Set<string>> {
  return addressesIn(await runIn(node, fullNatCommand(backend)));
}

export function missing(have: ReadonlySet<string>, want: readonly string[]): number {
  let n = 0;
  for (const a of want) if (!have.has(a)) n++;
  return n;
}

export interface RuleSetSize {
  /** iptables: "-A" lines over every table; nftables: rules inside chains plus map and set elements. */
  readonly rules: number;
  /** Bytes of iptables-save (every table) or of nft list ruleset. */
  readonly bytes: number;
  readonly command: string;
}

export async function ruleSetSize(node: BenchNode, backend: RuleBackend): Promise<RuleSetSize> {
  if (backend === "iptables") {
    const text = await inNode(node, iptablesTool("iptables-save"), []);
    return { rules: text.split("\n").filter((l) => l.startsWith("-A ")).length, bytes: Buffer.byteLength(text), command: iptablesTool("iptables-save") };
  }
  const text = await inNode(node, "nft", ["list", "ruleset"]);
  return { rules: countNftRules(text), bytes: Buffer.byteLength(text), command: "nft list ruleset" };
}

/** Rules in chain bodies, and elements of maps and sets (each stands for a rule iptables would need). */
export function countNftRules(text: string): number {
  let rules = 0;
  let block: "chain" | "collection" | null = null;
  let inElements = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (/^chain \S+ \{$/.test(line)) block = "chain";
    else if (/^(map|set) \S+ \{$/.test(line)) block = "collection";
    else if (line === "}") {
      block = null;
      inElements = false;
    } else if (block === "chain" && line !== "" && !line.startsWith("type ") && !line.startsWith("policy ") && !line.startsWith("comment ")) rules++;
    else if (block === "collection") {
      if (line.startsWith("elements = {")) inElements = true;
      if (inElements) rules += (line.replace(/^elements = \{/, "").match(/,|\}$/g) ?? []).length;
      if (line.endsWith("}")) inElements = false;
    }
  }
  return rules;
}
