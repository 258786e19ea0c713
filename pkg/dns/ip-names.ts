// The DNS names that carry an IP address: reverse names under in-addr.arpa and ip6.arpa,
// dashed endpoint names ("10-244-1-5", "fd00--1") and CoreDNS's pod labels. Names here are
// lower-case, dot-separated and without the trailing root dot, as the record store keys them.
import { isIPv4, isIPv6 } from "node:net";

/** The 4 or 16 bytes of an IP address, or null when `ip` is not one. */
export function ipToBytes(ip: string): Uint8Array | null {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  if (!isIPv6(ip) || ip.includes("%")) return null;
  const bytes = new Uint8Array(16);
  let text = ip;
  // An embedded IPv4 address ("::ffff:10.0.0.1") stands for the last two words.
  const lastColon = text.lastIndexOf(":");
  const v4 = text.slice(lastColon + 1);
  if (v4.includes(".")) text = `${text.slice(0, lastColon + 1)}0:0`;
  const [head, tail] = splitOnce(text, "::");
  const headWords = head === "" ? [] : head.split(":");
  const tailWords = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? 0 : 8 - headWords.length - tailWords.length;
  const words = [...headWords, ...Array<string>(zeros).fill("0"), ...tailWords];
  words.forEach((word, i) => {
    const w = parseInt(word, 16);
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  if (v4.includes(".")) bytes.set(v4.split(".").map(Number), 12);
  return bytes;
}

/** Canonical text of 4 or 16 address bytes (RFC 5952 for IPv6). */
export function bytesToIP(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // The longest run of two or more zero words becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Canonical text of an address ("fd00:0::01" -> "fd00::1"), or null when it is not one. */
export function canonicalIP(ip: string): string | null {
  const bytes = ipToBytes(ip);
  return bytes === null ? null : bytesToIP(bytes);
}

/** "10.0.0.1" -> "1.0.0.10.in-addr.arpa"; IPv6 in nibbles under ip6.arpa. */
export function reverseName(ip: string): string | null {
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

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}
