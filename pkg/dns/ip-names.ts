// The DNS names that carry an IP address: reverse names under in-addr.arpa and ip6.arpa,
// dashed endpoint names ("10-244-1-5", "fd00--1") and CoreDNS's pod labels. Names here are
// lower-case, dot-separated and without the trailing root dot, as the record store keys them.
import { bytesToIP, canonicalIP, ipToBytes } from "../model/ip.ts";

/** "10.0.0.1" -> "1.0.0.10.in-addr.arpa"; IPv6 in nibbles under ip6.arpa. */
export function reverseName(ip: string): string | null {
  // A canonical IPv4 address (every ClusterIP the store names) needs no parse into bytes.
  if (!ip.includes(":") && canonicalIP(ip) === ip) {
    const [a, b, c, d] = ip.split(".");
    return `${d}.${c}.${b}.${a}.in-addr.arpa`;
  }
  const bytes = ipToBytes(ip);
  if (bytes === null) return null;
  if (bytes.length === 4) return `${bytes[3]}.${bytes[2]}.${bytes[1]}.${bytes[0]}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    const b = bytes[i] ?? 0;
    nibbles.push((b & 0xf).toString(16), (b >> 4).toString(16));
  }
  return `${nibbles.join(".")}.ip6.arpa`;
}

const octet = /^(?:0|[1-9][0-9]{0,2})$/;
const nibble = /^[0-9a-f]$/;

/** The address a complete reverse name stands for, or null (a partial name, a bad label). */
export function ipFromReverseName(name: string): string | null {
  const labels = name.split(".");
  if (name.endsWith(".in-addr.arpa") && labels.length === 6) {
    const parts = labels.slice(0, 4).reverse();
    if (!parts.every((p) => octet.test(p) && Number(p) <= 255)) return null;
    return parts.join(".");
  }
  if (name.endsWith(".ip6.arpa") && labels.length === 34) {
    const nibbles = labels.slice(0, 32);
    if (!nibbles.every((n) => nibble.test(n))) return null;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) {
      const lo = parseInt(nibbles[31 - i * 2 - 1] ?? "0", 16);
      const hi = parseInt(nibbles[31 - i * 2] ?? "0", 16);
      bytes[i] = (hi << 4) | lo;
    }
    return bytesToIP(bytes);
  }
  return null;
}

/**
 * The endpoint label CoreDNS gives an address without a hostname: "10-244-1-5", "fd00--1".
 * A label may not end (nor start) with a hyphen, so an IPv6 address ending in "::" gets a "0"
 * there, as CoreDNS writes it ("fd00--0"), and one starting with "::" gets one in front
 * ("0--ffff-a00-1"); ipFromPodLabel reads both back to the same address.
 */
export function dashedName(ip: string): string {
  if (!ip.includes(":")) return ip.replaceAll(".", "-");
  const dashed = ip.toLowerCase().replaceAll(":", "-");
  return `${dashed.startsWith("-") ? "0" : ""}${dashed}${dashed.endsWith("-") ? "0" : ""}`;
}

/**
 * The address in a pod label, CoreDNS's way: three dashes and no "--" make IPv4, anything else
 * is read as IPv6 with dashes for colons. Null when the result is not an address.
 */
export function ipFromPodLabel(label: string): string | null {
  const dashes = label.split("-").length - 1;
  const text = dashes === 3 && !label.includes("--") ? label.replaceAll("-", ".") : label.replaceAll("-", ":");
  return canonicalIP(text);
}
