// Turns a query name into a request record before anything is looked up, as CoreDNS's parse.go
// does: which zone, which kind of name, and the service, namespace, port, protocol and endpoint
// it spells. The answer builder decides NXDOMAIN or NODATA from this shape and the store.
import { ipFromReverseName } from "./ip-names.ts";

export const REVERSE_ZONES = ["in-addr.arpa", "ip6.arpa"] as const;
export type ReverseZone = (typeof REVERSE_ZONES)[number];

export type BadShape =
  /** The label under the zone is neither "svc" nor "pod" (nor "dns-version"). */
  | "unknown-kind"
  /** More labels than any record of the kind can have. */
  | "too-many-labels"
  /** Four labels under the namespace that are not "_port._protocol". */
  | "not-port-protocol";

export type RequestRecord =
  /** Not in the cluster zone nor a reverse zone: a name for the upstream. */
  | { readonly kind: "outside" }
  | { readonly kind: "apex"; readonly zone: string }
  | { readonly kind: "dns-version"; readonly zone: string }
  /** ns.dns.<zone>, the name server in the zone's NS and SOA records. */
  | { readonly kind: "name-server"; readonly zone: string }
  /** dns.<zone>, which exists (without records) because ns.dns.<zone> does. */
  | { readonly kind: "name-server-parent"; readonly zone: string }
  | {
      readonly kind: "svc";
      readonly zone: string;
      /** "" for svc.<zone> itself; the other parts are "" when the name stops above them. */
      readonly namespace: string;
      readonly service: string;
      readonly endpoint: string;
      /** Without the leading underscore, as in "http" for "_http". */
      readonly port: string;
      readonly protocol: string;
    }
  | { readonly kind: "pod"; readonly zone: string; readonly namespace: string; readonly pod: string }
  | { readonly kind: "reverse"; readonly zone: ReverseZone; readonly ip: string | null }
  | { readonly kind: "bad-shape"; readonly zone: string; readonly reason: BadShape };

/** Lower-case, without the trailing root dot: the spelling the store keys names by. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

export function parseName(queryName: string, clusterZone: string): RequestRecord {
  const name = normalizeName(queryName);
  const zone = normalizeName(clusterZone);
  for (const reverse of REVERSE_ZONES) {
    if (name === reverse || name.endsWith(`.${reverse}`)) {
      return { kind: "reverse", zone: reverse, ip: ipFromReverseName(name) };
    }
  }
  if (name === zone) return { kind: "apex", zone };
  if (!name.endsWith(`.${zone}`)) return { kind: "outside" };
  const labels = name.slice(0, name.length - zone.length - 1).split(".");
  const kind = labels.pop();
  if (kind === "dns-version" && labels.length === 0) return { kind: "dns-version", zone };
  if (kind === "dns" && labels.length === 0) return { kind: "name-server-parent", zone };
  if (kind === "dns" && labels.length === 1 && labels[0] === "ns") return { kind: "name-server", zone };
  if (kind === "svc") return parseService(labels, zone);
  if (kind === "pod") return parsePod(labels, zone);
  return { kind: "bad-shape", zone, reason: "unknown-kind" };
}

function parseService(labels: readonly string[], zone: string): RequestRecord {
  // Read right to left: namespace, service, then an endpoint or "_port._protocol".
  const [namespace = "", service = "", ...rest] = [...labels].reverse();
  const record = { kind: "svc", zone, namespace, service, endpoint: "", port: "", protocol: "" } as const;
  if (rest.length === 0) return record;
  if (rest.length === 1) return { ...record, endpoint: rest[0] ?? "" };
  if (rest.length > 2) return { kind: "bad-shape", zone, reason: "too-many-labels" };
  const [protocol = "", port = ""] = rest;
  if (!protocol.startsWith("_") || !port.startsWith("_")) {
    return { kind: "bad-shape", zone, reason: "not-port-protocol" };
  }
  return { ...record, port: port.slice(1), protocol: protocol.slice(1) };
}

function parsePod(labels: readonly string[], zone: string): RequestRecord {
  if (labels.length > 2) return { kind: "bad-shape", zone, reason: "too-many-labels" };
  const [namespace = "", pod = ""] = [...labels].reverse();
  return { kind: "pod", zone, namespace, pod };
}
