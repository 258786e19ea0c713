// IP addresses and CIDRs for both daemons: family, canonical text (RFC 5952, the form Go prints,
// so kube-proxy's chain hashes and CoreDNS's names match), prefix containment, host:port, and
// the 4 or 16 bytes of an address. No I/O, so renderers and tracers using it stay pure.
//
// Two readings, as in Kubernetes. The strict one (parseIP, ipFamilyOf, canonicalIP) is Go's
// net.ParseIP: what the API server validates with, what CoreDNS parses pod labels and addresses
// with, and what the model's converters enforce, so every address from the API is strict. The
// sloppy one (parseIPSloppy, parseCIDR, cidrContains) is k8s.io/utils/net's ParseIPSloppy, which
// kube-proxy reads its flags and configuration with: leading zeros are read as decimal.
import { isIP } from "node:net";
import type { IPFamily } from "./types.ts";

export interface ParsedIP {
  readonly family: IPFamily;
  /** The address as an unsigned 32- or 128-bit integer. */
  readonly value: bigint;
}

export interface ParsedCIDR {
  readonly family: IPFamily;
  /** The network address (host bits cleared). */
  readonly network: bigint;
  readonly prefix: number;
}

/** Bits in an address of the family: 32 or 128. */
export function bitsOf(family: IPFamily): number {
  return family === "IPv4" ? 32 : 128;
}

function parseIPv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are read as decimal, as Go's ParseIPSloppy does for old API objects.
    if (!/^[0-9]{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseHextets(text: string): number[] | null {
  if (text === "") return [];
  const out: number[] = [];
  for (const group of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    out.push(parseInt(group, 16));
  }
  return out;
}

function parseIPv6(text: string): bigint | null {
  let body = text;
  let tail: number[] = [];
  // An embedded IPv4 address in the last 32 bits (::ffff:1.2.3.4).
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".")) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    body = body.slice(0, lastColon + 1);
    if (body.endsWith(":") && !body.endsWith("::")) body = body.slice(0, -1);
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseHextets(halves[0] ?? "");
    const rest = parseHextets(halves[1] ?? "");
    if (head === null || rest === null) return null;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    const all = parseHextets(body);
    if (all === null) return null;
    groups = [...all, ...tail];
  }
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}



/** The family of an IP address, or null when `value` is not one (strict; zones such as "%eth0" refused). */
export function ipFamilyOf(value: string): IPFamily | null {
  if (typeof value !== "string" || value.includes("%")) return null;
  switch (isIP(value)) {
    case 4:
      return "IPv4";
    case 6:
      return "IPv6";
    default:
      return null;
  }
}

/** Parses an IPv4 or IPv6 address strictly; null when the text is not one. */
export function parseIP(text: string): ParsedIP | null {
  return ipFamilyOf(text) === null ? null : parseIPSloppy(text);
}

/** Parses an address as ParseIPSloppy does: an IPv4 part with leading zeros is read as decimal. */
export function parseIPSloppy(text: string): ParsedIP | null {
  if (text.includes(":")) {
    const value = parseIPv6(text);
    return value === null ? null : { family: "IPv6", value };
  }
  const value = parseIPv4(text);
  return value === null ? null : { family: "IPv4", value };
}

const octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const canonicalIPv4 = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);

/** The canonical text of an address ("fd00:0::01" -> "fd00::1"), or null when it is not one. */
export function canonicalIP(text: string): string | null {
  // Most addresses from the API are canonical IPv4 already; skip the bigint round trip.
  if (canonicalIPv4.test(text)) return text;
  const ip = parseIP(text);
  return ip === null ? null : formatIP(ip);
}

/** Formats an address the way Go's net.IP.String does (RFC 5952 for IPv6). */
export function formatIP(ip: ParsedIP): string {
  if (ip.family === "IPv4") {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Compress the longest run of two or more zero groups; the first one wins a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLen).join(":");
  return `${head}::${tail}`;
}


/**
 * Parses "addr/prefix" as kube-proxy reads its flags (ParseCIDRSloppy): surrounding space and
 * leading zeros are allowed, a bare address is a host prefix, and host bits are cleared.
 */
export function parseCIDR(text: string): ParsedCIDR | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const ip = parseIPSloppy(slash < 0 ? trimmed : trimmed.slice(0, slash));
  if (ip === null) return null;
  const bits = bitsOf(ip.family);
  let prefix = bits;
  if (slash >= 0) {
    const p = trimmed.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > bits) return null;
  }
  const hostBits = BigInt(bits - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, network, prefix };
}

export function formatCIDR(cidr: ParsedCIDR): string {
  return `${formatIP({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

/** The canonical text of a CIDR ("203.0.113.0/25"), or null when it is not one. */
export function canonicalCIDR(text: string): string | null {
  const c = parseCIDR(text);
  return c === null ? null : formatCIDR(c);
}

export function cidrContainsParsed(cidr: ParsedCIDR, ip: ParsedIP): boolean {
  if (cidr.family !== ip.family) return false;
  const hostBits = BigInt(bitsOf(cidr.family) - cidr.prefix);
  return ip.value >> hostBits === cidr.network >> hostBits;
}

/** Whether ip lies inside cidr; false when either does not parse or the families differ. Sloppy, as parseCIDR. */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCIDR(cidr);
  const a = parseIPSloppy(ip);
  return c !== null && a !== null && cidrContainsParsed(c, a);
}

/** "ip:port", with brackets around an IPv6 address, as Go's net.JoinHostPort. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Splits "ip:port" or "[ip]:port"; the port is null when absent. */
export function splitHostPort(text: string): { readonly ip: string; readonly port: number | null } {
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text);
  if (bracketed !== null) {
    return { ip: bracketed[1] ?? "", port: bracketed[2] === undefined ? null : Number(bracketed[2]) };
  }
  const colons = text.split(":").length - 1;
  if (colons === 1) {
    const [ip = "", port = ""] = text.split(":");
    return { ip, port: /^[0-9]+$/.test(port) ? Number(port) : null };
  }
  return { ip: text, port: null };
}

const prefixLength = /^(?:0|[1-9][0-9]{0,2})$/;

/** "10.244.0.0/24" or "fd00::/64", strictly, as the API server validates; host bits may be set. */
export function isCIDR(value: string): boolean {
  if (typeof value !== "string") return false;
  const slash = value.indexOf("/");
  if (slash < 0) return false;
  const family = ipFamilyOf(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (family === null || !prefixLength.test(bits)) return false;
  return Number(bits) <= (family === "IPv4" ? 32 : 128);
}

/** The 4 or 16 bytes of an IP address (strict), or null when `ip` is not one. */
export function ipToBytes(ip: string): Uint8Array | null {
  const parsed = parseIP(ip);
  if (parsed === null) return null;
  const bytes = new Uint8Array(bitsOf(parsed.family) / 8);
  let value = parsed.value;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

/** Canonical text of 4 or 16 address bytes (RFC 5952 for IPv6). */
export function bytesToIP(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return formatIP({ family: bytes.length === 4 ? "IPv4" : "IPv6", value });
}
