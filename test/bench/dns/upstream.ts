// The upstream both contestants forward to: Debian's dnsmasq on a loopback address of the bench's
// own network namespace, port 53 (a resolv.conf nameserver has no port), serving the test zone
// www-0 … www-N-1.example.test from its own records and refusing everything else. It has no
// upstream of its own (--no-resolv), so no packet leaves the namespace. It runs on core 1, with
// dnsperf, so the measured server keeps core 0 to itself.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SupervisedProcess } from "../../support/localcluster/supervised-process.ts";
import { FORWARD_NAMES, UPSTREAM_ZONE } from "./query-files.ts";
import { askUntil, TYPE_A } from "./udp-probe.ts";

export const UPSTREAM_ADDRESS = "127.0.1.53";

export interface Upstream {
  /** A resolv.conf naming only the upstream, given to both contestants. */
  readonly resolvConf: string;
  readonly command: string;
  readonly process: SupervisedProcess;
}

export function forwardAddress(n: number): string {
  return `192.0.2.${n % 250}`;
}

export async function startUpstream(dir: string): Promise<Upstream> {
  const configFile = join(dir, "dnsmasq.conf");
  const records = Array.from({ length: FORWARD_NAMES }, (_, n) => `host-record=www-${n}.${UPSTREAM_ZONE},${forwardAddress(n)}`);
  writeFileSync(configFile, `${records.join("\n")}\n`);
  const args = [
    "-c", "1", "dnsmasq",
    "--keep-in-foreground", `--conf-file=${configFile}`, "--no-resolv", "--no-hosts", "--no-poll",
    "--pid-file=", "--user=root", "--bind-interfaces", `--listen-address=${UPSTREAM_ADDRESS}`, "--port=53",
    "--log-facility=-",
    // Its own records otherwise carry TTL 0, which no cache keeps.
    "--local-ttl=30",
    // Unknown names in the zone are NXDOMAIN; names outside it are REFUSED.
    `--local=/${UPSTREAM_ZONE}/`,
    "--cache-size=10000",
  ];
  const process = new SupervisedProcess({ name: "dnsmasq", command: "taskset", args, logFile: join(dir, "dnsmasq.log") });
  const resolvConf = join(dir, "upstream-resolv.conf");
  writeFileSync(resolvConf, `nameserver ${UPSTREAM_ADDRESS}\n`);
  const up = await askUntil(UPSTREAM_ADDRESS, 53, `www-1.${UPSTREAM_ZONE}`, TYPE_A, (a) => a.rcode === 0 && a.answers === 1, 10_000);
  if (!up) {
    await process.stop();
    throw new Error(`dnsmasq did not answer on ${UPSTREAM_ADDRESS}:53; its log:\n${process.tail()}`);
  }
  return { resolvConf, command: `taskset ${args.join(" ")}`, process };
}
