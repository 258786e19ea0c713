// Reads the upstream servers out of a resolv.conf, as CoreDNS's `forward . /etc/resolv.conf`
// does: the nameserver lines only, port 53, each address in its canonical spelling (the one
// the kernel reports and metrics label). It also refuses an upstream that would be
// signpost-dns itself, since a forwarding loop turns one query into a storm that never ends.
import { readFileSync } from "node:fs";
import { isIP, isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";
import { SignpostError } from "../errors/errors.ts";
import type { Upstream } from "./forwarder.ts";
import { bytesToIP, ipToBytes } from "../model/ip.ts";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The nameservers of resolv.conf text, in order, canonical; a zone suffix ("fe80::1%eth0") is kept. */
export function parseResolvConf(text: string): Upstream[] {
  const upstreams: Upstream[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [keyword, written] = line.split(/\s+/);
    if (keyword !== "nameserver" || written === undefined) continue;
    const address = canonicalNameserver(written);
    if (address !== null) upstreams.push({ address, port: 53 });
  }
  return upstreams;
}

/**
 * RFC 5952's spelling of a nameserver address ("FD00:0:0::0010" is "fd00::10"), its zone kept;
 * an IPv4-mapped IPv6 address becomes the IPv4 address it stands for, which is where the
 * packets go. Null when it is not an address.
 */
export function canonicalNameserver(written: string): string | null {
  const zoneAt = written.indexOf("%");
  const address = zoneAt < 0 ? written : written.slice(0, zoneAt);
  if (isIP(address) === 0 || (zoneAt >= 0 && !isIPv6(address))) return null;
  const bytes = ipToBytes(address);
  if (bytes === null) return null;
  const mapped = bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return bytesToIP(bytes.subarray(12));
  return bytesToIP(bytes) + (zoneAt < 0 ? "" : written.slice(zoneAt));
}

/** Reads `path` and returns its nameservers; a missing file or none listed is SP_BAD_CONFIG. */
export function readUpstreams(path: string): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err && err.code === "ENOENT" ? "does not exist" : "is not readable";
    throw new SignpostError("SP_BAD_CONFIG", `--upstream ${path}`, `the resolv.conf ${reason}`, { cause: err });
  }
  const upstreams = parseResolvConf(text);
  if (upstreams.length === 0) {
    throw new SignpostError("SP_BAD_CONFIG", `--upstream ${path}`, "has no usable nameserver line (an IPv4 or IPv6 address)");
  }
  return upstreams;
}

/**
 * The first upstream that is the server's own listen address, or null. A wildcard listen
 * address (0.0.0.0, ::) also owns the loopback range and every address of this host.
 */
export function selfUpstream(
  upstreams: readonly Upstream[],
  listen: ListenAddress,
  localAddresses: () => readonly string[] = hostAddresses,
): Upstream | null {
  const wildcard = listen.host === "0.0.0.0" || listen.host === "::";
  for (const upstream of upstreams) {
    if (upstream.port !== listen.port) continue;
    const address = upstream.address.replace(/%.*$/, "").toLowerCase();
    if (address === listen.host.toLowerCase()) return upstream;
    if (!wildcard) continue;
    // A socket on "::" takes IPv4 too, unless the system says otherwise; count it as a loop.
    if (listen.host === "0.0.0.0" && isIPv6(address) && !address.startsWith("::ffff:")) continue;
    const local = address.startsWith("127.") || address === "::1" || address === "0.0.0.0" || address === "::";
    if (local || localAddresses().some((a) => a.toLowerCase() === address)) return upstream;
  }
  return null;
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** Throws SP_DNS_LOOP when an upstream is this server itself. */
export function refuseSelfUpstream(upstreams: readonly Upstream[], listen: ListenAddress, source: string): void {
  const self = selfUpstream(upstreams, listen);
  if (self === null) return;
  throw new SignpostError(
    "SP_DNS_LOOP",
    `--upstream ${source}`,
    `nameserver ${self.address} is signpost-dns's own listen address ${formatListen(listen)}: ` +
      "forwarding there would loop; point --upstream at a resolv.conf that names the real upstream " +
      "(in a pod, use dnsPolicy: Default)",
  );
}

export function formatListen(listen: ListenAddress): string {
  return isIPv6(listen.host) ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
}
