// IP and CIDR checks for the fields the API server validates as addresses. Kubernetes rejects
// IPv6 zones ("fe80::1%eth0"), which node:net accepts, so they are refused here too.
import { isIP } from "node:net";
import type { IPFamily } from "./types.ts";

/** The family of an IP address, or null when `value` is not one. */
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

const prefixLength = /^(?:0|[1-9][0-9]{0,2})$/;

/** "10.244.0.0/24" or "fd00::/64"; host bits may be set, as the API server allows. */
export function isCIDR(value: string): boolean {
  if (typeof value !== "string") return false;
  const slash = value.indexOf("/");
  if (slash < 0) return false;
  const family = ipFamilyOf(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (family === null || !prefixLength.test(bits)) return false;
  return Number(bits) <= (family === "IPv4" ? 32 : 128);
}
