// Addresses a Service or an endpoint must never name, as the API server's ValidateNonSpecialIP
// defines them: unspecified, loopback, link-local and link-local multicast. The API server
// refuses most of them but not all (a load balancer's status is not checked, and an older API
// server or an etcd edit lets any through); a rule for 127.0.0.1 or 169.254.169.254 would capture
// the node's own loopback or the cloud's metadata service. The proxy skips them and says why.
import { parseCIDR, parseIPSloppy, cidrContainsParsed } from "../model/ip.ts";

const special = [
  { kind: "unspecified", cidrs: ["0.0.0.0/32", "::/128"] },
  { kind: "loopback", cidrs: ["127.0.0.0/8", "::1/128"] },
  { kind: "link-local", cidrs: ["169.254.0.0/16", "fe80::/10"] },
  { kind: "link-local multicast", cidrs: ["224.0.0.0/24", "ff02::/16"] },
].map(({ kind, cidrs }) => ({ kind, cidrs: cidrs.flatMap((c) => parseCIDR(c) ?? []) }));

/** "loopback", "link-local"...: what makes the address unusable; null for an ordinary one or not an address. */
export function specialAddressKind(address: string): string | null {
  const ip = parseIPSloppy(address.trim());
  if (ip === null) return null;
  return special.find((s) => s.cidrs.some((c) => cidrContainsParsed(c, ip)))?.kind ?? null;
}

/** A problem line naming the field, for the logs: `spec.externalIPs[0] 127.0.0.1 is a loopback address`. */
export function specialAddressProblem(field: string, address: string, kind: string): string {
  return `${field} ${address} is ${kind === "unspecified" ? "the unspecified address" : `a ${kind} address`}, skipped`;
}
