// The "internet" DNS the local cluster's nodes use (their resolv.conf, and so the cluster DNS's
// upstream under dnsPolicy Default): Debian's dnsmasq on the harness's underlay address, serving
// one test zone and refusing everything else, so forwarding is exercised without any packet
// leaving the machine.
import { join } from "node:path";
import { SupervisedProcess } from "./supervised-process.ts";

export const UPSTREAM_ZONE = "example.test";

export interface UpstreamDns {
  readonly address: string;
  /** Names it answers, with their addresses. */
  readonly records: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export function startUpstreamDns(address: string, logDir: string, records: Readonly<Record<string, string>> = { [`www.${UPSTREAM_ZONE}`]: "172.30.0.200" }): UpstreamDns {
  const p = new SupervisedProcess({
    name: "dnsmasq",
    command: "dnsmasq",
    args: [
      "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
      `--listen-address=${address}`, "--port=53", "--pid-file=", "--log-facility=-", "--log-queries",
      ...Object.entries(records).map(([name, ip]) => `--host-record=${name},${ip}`),
      // Unknown names in the zone are NXDOMAIN; names outside it are REFUSED.
      `--local=/${UPSTREAM_ZONE}/`,
    ],
    logFile: join(logDir, "dnsmasq.log"),
  });
  return { address, records, stop: () => p.stop() };
}
