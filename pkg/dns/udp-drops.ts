// The kernel's count of UDP datagrams dropped because a socket's receive buffer was full
// (RcvbufErrors in /proc/net/snmp and Udp6RcvbufErrors in /proc/net/snmp6). The counters are
// per network namespace: in a pod that is signpost-dns's own sockets, the listening socket and
// the forwarder's alike. Read when Prometheus scrapes; a missing file reads as no line.
import { readFileSync } from "node:fs";
import { family } from "./metrics.ts";

export interface UdpDropsOptions {
  /** Reads a /proc file; readFileSync by default. */
  readonly read?: (path: string) => string;
}

/** RcvbufErrors of the "Udp:" lines of /proc/net/snmp text, or null without them. */
export function ipv4ReceiveBufferErrors(snmp: string): number | null {
  const [names, values] = snmp.split("\n").filter((line) => line.startsWith("Udp: "));
  if (names === undefined || values === undefined) return null;
  const at = names.split(/\s+/).indexOf("RcvbufErrors");
  const value = values.split(/\s+/)[at];
  return at < 0 || value === undefined ? null : Number(value);
}

/** Udp6RcvbufErrors of /proc/net/snmp6 text, or null without it. */
export function ipv6ReceiveBufferErrors(snmp6: string): number | null {
  const match = /^Udp6RcvbufErrors\s+(\d+)$/m.exec(snmp6);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function udpDropsExposition(options: UdpDropsOptions = {}): string {
  const read = options.read ?? ((path: string) => readFileSync(path, "utf8"));
  const tryRead = (path: string): string => {
    try {
      return read(path);
    } catch {
      return "";
    }
  };
  const name = "signpost_dns_udp_receive_buffer_errors_total";
  const out: string[] = [];
  family(out, name, "counter", "UDP datagrams the kernel dropped in signpost-dns's network namespace because a socket's receive buffer was full.");
  const ipv4 = ipv4ReceiveBufferErrors(tryRead("/proc/net/snmp"));
  const ipv6 = ipv6ReceiveBufferErrors(tryRead("/proc/net/snmp6"));
  if (ipv4 !== null) out.push(`${name}{family="1"} ${ipv4}`);
  if (ipv6 !== null) out.push(`${name}{family="2"} ${ipv6}`);
  return out.join("\n") + "\n";
}
