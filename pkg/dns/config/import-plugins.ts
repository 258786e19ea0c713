// `signpost-dns import` for CoreDNS's hosts, rewrite and loadbalance plugins and the kubernetes
// options beyond zone, pods and ttl: each directive becomes the DNSConfiguration's field, and
// what has no equivalent is named with its line, as import-config.ts does for the rest.
import { canonicalCIDR, canonicalIP } from "../../model/ip.ts";
import type { Directive } from "./corefile.ts";

/** Where notes go and conversions are counted: import-config.ts's builder. */
export interface ImportSink {
  note(line: number | string, what: string, reason: string): void;
  converted: number;
}

const text = (d: Directive): string => [d.name, ...d.args].join(" ");
const plain = (zone: string): string => zone.toLowerCase().replace(/\.$/, "");
const isReverse = (zone: string): boolean => /(^|\.)(in-addr|ip6)\.arpa$/.test(zone);

/** `hosts [FILE [ZONES...]] { INLINE... ttl no_reverse reload fallthrough }` as the `hosts` section. */
export function convertHosts(sink: ImportSink, d: Directive): Record<string, unknown> | null {
  const [file = "/etc/hosts", ...zones] = d.args;
  const out: Record<string, unknown> = {};
  if (file.startsWith("/")) out["file"] = file;
  else sink.note(d.line, text(d), `the hosts file "${file}" is relative to CoreDNS's root; give its absolute path in hosts.file`);
  if (zones.length > 0 && !(zones.length === 1 && zones[0] === ".")) out["zones"] = zones.map(plain);
  const entries: string[] = [];
  for (const o of d.options) {
    const [arg] = o.args;
    if (canonicalIP(o.name.split("%", 1)[0] ?? "") !== null && o.args.length > 0) entries.push(text(o));
    else if (o.name === "ttl" && o.args.length === 1 && /^\d+$/.test(arg ?? "") && Number(arg) <= 86_400) out["ttl"] = Number(arg);
    else if (o.name === "no_reverse" && o.args.length === 0) out["noReverse"] = true;
    else if (o.name === "reload" && o.args.length === 1 && /^\d+(\.\d+)?(ms|s|m|h)$/.test(arg ?? "")) out["reload"] = arg;
    else if (o.name === "fallthrough") out["fallthrough"] = o.args.length === 0 ? true : o.args.map(plain);
    else sink.note(o.line, `hosts option ${text(o)}`, "has no equivalent in signpost-dns");
  }
  if (entries.length > 0) out["entries"] = entries;
  if (out["file"] === undefined && entries.length === 0) return null;
  sink.converted++;
  return out;
}

const MATCHES = ["exact", "prefix", "suffix", "substring", "regex"];

/**
 * One `rewrite` directive as rewrite rules: `rewrite [continue|stop] name [MATCH] FROM TO
 * [answer auto | answer name FROM TO]`, or its block form with a `name` and an `answer name`
 * line. Other fields (type, class, edns0, ttl, answer value) are named.
 */
export function convertRewrite(sink: ImportSink, d: Directive): Record<string, unknown>[] {
  let args = [...d.args];
  let cont = false;
  if (args[0] === "continue" || args[0] === "stop") {
    cont = args[0] === "continue";
    args = args.slice(1);
  }
  // The block form: `rewrite stop { name regex A B \n answer name C D }`.
  if (args.length === 0 && d.options.length > 0) args = d.options.flatMap((o) => [o.name, ...o.args]);
  if (args[0] !== "name") {
    sink.note(d.line, text(d), `signpost-dns rewrites query names only (rewrite name); the ${args[0] ?? "empty"} rewrite has no equivalent`);
    return [];
  }
  let rest = args.slice(1);
  const match = MATCHES.includes(rest[0] ?? "") ? (rest[0] ?? "exact") : "exact";
  if (MATCHES.includes(rest[0] ?? "")) rest = rest.slice(1);
  const [from, to, ...answer] = rest;
  if (from === undefined || to === undefined) {
    sink.note(d.line, text(d), "is not rewrite name [MATCH] FROM TO");
    return [];
  }
  const rule: Record<string, unknown> = { ...(match === "exact" ? {} : { match }), from, to };
  if (answer[0] === "answer" && answer[1] === "name" && answer.length === 4) rule["answer"] = { from: answer[2], to: answer[3] };
  else if (answer.length === 2 && answer[0] === "answer" && answer[1] === "auto") {
    // signpost-dns always gives the rewritten name back as the asked one.
  } else if (answer.length > 0) sink.note(d.line, `${text(d)}: ${answer.join(" ")}`, "signpost-dns rewrites answer names back (auto) or by answer name FROM TO; answer value has no equivalent");
  if (cont) rule["continue"] = true;
  sink.converted++;
  return [rule];
}

/** `loadbalance [round_robin]`; its weighted policy has no equivalent. */
export function convertLoadbalance(sink: ImportSink, d: Directive): string | null {
  if (d.args.length === 0 || (d.args.length === 1 && d.args[0] === "round_robin")) {
    sink.converted++;
    return "round_robin";
  }
  sink.note(d.line, text(d), "signpost-dns balances by round_robin only");
  return null;
}

/** A reverse zone as the CIDR of the addresses under it ("96.10.in-addr.arpa" is 10.96.0.0/16); null when it is not one. */
export function reverseZoneCIDR(zone: string): string | null {
  const z = plain(zone);
  if (z === "in-addr.arpa") return "0.0.0.0/0";
  if (z === "ip6.arpa") return "::/0";
  if (z.endsWith(".in-addr.arpa")) {
    const octets = z.slice(0, -".in-addr.arpa".length).split(".").reverse();
    if (octets.length > 4) return null;
    return canonicalCIDR(`${[...octets, "0", "0", "0", "0"].slice(0, 4).join(".")}/${octets.length * 8}`);
  }
  if (z.endsWith(".ip6.arpa")) {
    const nibbles = z.slice(0, -".ip6.arpa".length).split(".").reverse();
    if (nibbles.length > 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return null;
    const full = [...nibbles, ...Array<string>(32 - nibbles.length).fill("0")].join("");
    const groups = full.match(/.{4}/g) ?? [];
    return canonicalCIDR(`${groups.join(":")}/${nibbles.length * 4}`);
  }
  return null;
}

/** `kubernetes ZONE REVERSE...`: the reverse zones as cluster.reverseCIDRs (absent when both whole trees, [] when none). */
export function convertReverseZones(sink: ImportSink, d: Directive, cluster: Record<string, unknown>): void {
  const reverse = d.args.map(plain).filter(isReverse);
  if (reverse.length === 0) {
    // No reverse zone: CoreDNS answers no PTR from the cluster, and neither will signpost-dns.
    cluster["reverseCIDRs"] = [];
    sink.converted++;
    return;
  }
  const cidrs = reverse.map((z) => [z, reverseZoneCIDR(z)] as const);
  for (const [zone, cidr] of cidrs) if (cidr === null) sink.note(d.line, `kubernetes ... ${zone}`, "is not a reverse zone of whole octets or nibbles");
  const found = cidrs.flatMap(([, c]) => (c === null ? [] : [c]));
  if (found.length > 0 && !(found.includes("0.0.0.0/0") && found.includes("::/0"))) {
    cluster["reverseCIDRs"] = found;
    sink.converted++;
  }
  // CoreDNS answers NXDOMAIN for reverse names it lacks unless `fallthrough` says otherwise.
  if (!d.options.some((o) => o.name === "fallthrough")) cluster["fallthrough"] = false;
}

/** One kubernetes option this module converts; false for the others (import-config.ts handles or names them). */
export function convertKubernetesOption(sink: ImportSink, o: Directive, cluster: Record<string, unknown>): boolean {
  switch (o.name) {
    case "namespaces":
      if (o.args.length === 0) return false;
      cluster["namespaces"] = o.args;
      break;
    case "endpoint_pod_names":
      cluster["endpointPodNames"] = true;
      break;
    case "noendpoints":
      cluster["noEndpoints"] = true;
      break;
    case "fallthrough": {
      const zones = o.args.map(plain);
      const reverse = zones.length === 0 ? ["in-addr.arpa", "ip6.arpa"] : zones.filter(isReverse);
      if (zones.length === 0 || zones.some((z) => !isReverse(z))) {
        sink.note(o.line, `kubernetes option ${text(o)}`, "signpost-dns falls through in reverse zones only; names of the cluster zone it lacks are NXDOMAIN");
      }
      const isDefault = reverse.length === 2 && reverse.includes("in-addr.arpa") && reverse.includes("ip6.arpa");
      if (!isDefault) cluster["fallthrough"] = reverse.length === 0 ? false : reverse;
      return true;
    }
    default:
      return false;
  }
  sink.converted++;
  return true;
}
