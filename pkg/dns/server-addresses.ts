// The addresses signpost-dns answers on, as CoreDNS's kubernetes plugin reads its own: the
// --listen address, or every interface's address when listening on the wildcard. The record
// store finds the zone's name servers (kube-dns) as the Services with an endpoint there.
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { canonicalIP } from "../model/ip.ts";

/**
 * Canonical, each once, in interface order. Loopback is left out as CoreDNS leaves it out (no
 * endpoint can have it), and link-local too: without its interface it names no one.
 */
export function serverAddresses(
  listenHost: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const wildcard = listenHost === "0.0.0.0" || listenHost === "::";
  const candidates = wildcard ? Object.values(interfaces).flatMap((list) => (list ?? []).map((i) => i.address)) : [listenHost];
  const out: string[] = [];
  for (const candidate of candidates) {
    const ip = canonicalIP(candidate);
    if (ip === null || isLoopback(ip) || isLinkLocal(ip) || ip === "::" || ip === "0.0.0.0" || out.includes(ip)) continue;
    out.push(ip);
  }
  return out;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

function isLinkLocal(ip: string): boolean {
  return ip.startsWith("169.254.") || /^fe[89ab][0-9a-f]:/.test(ip);
}
