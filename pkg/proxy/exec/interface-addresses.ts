// The addresses on the node's network interfaces, which --nodeport-addresses is matched against
// (as kube-proxy matches it against its network interfaces, not the Node's status). In the
// namespace the daemon runs in (a DaemonSet on the host network) they come from the process
// itself; with --iptables-netns, from `ip -j addr show` run in that namespace through the
// command runner, so they are always those of the namespace the rules are programmed in.
import { networkInterfaces } from "node:os";
import type { IPFamily } from "../../model/types.ts";
import type { CommandRunner } from "./command-runner.ts";
import { SignpostError } from "../../errors/errors.ts";

export interface InterfaceAddress {
  readonly interface: string;
  readonly family: IPFamily;
  readonly address: string;
}

interface IpAddrEntry {
  readonly ifname?: unknown;
  readonly addr_info?: readonly { readonly family?: unknown; readonly local?: unknown }[];
}

/** Parses `ip -j addr show`; entries without a local address are skipped. */
export function parseIpAddrJson(text: string): InterfaceAddress[] {
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed)) throw new SignpostError("SP_EXEC_FAILED", "ip -j addr show", "printed no JSON list");
  const out: InterfaceAddress[] = [];
  for (const entry of parsed as IpAddrEntry[]) {
    const name = typeof entry.ifname === "string" ? entry.ifname : "";
    for (const info of entry.addr_info ?? []) {
      const family = info.family === "inet" ? "IPv4" : info.family === "inet6" ? "IPv6" : null;
      if (family === null || typeof info.local !== "string" || info.local === "") continue;
      out.push({ interface: name, family, address: info.local });
    }
  }
  return out;
}

export async function readInterfaceAddresses(runner: CommandRunner): Promise<InterfaceAddress[]> {
  const r = await runner.run("ip", ["-j", "addr", "show"], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new SignpostError("SP_EXEC_FAILED", "ip -j addr show", `exit ${r.exitCode}: ${r.stderr.trim()}`);
  return parseIpAddrJson(r.stdout);
}

/** The addresses of the network namespace this process runs in. */
export function ownInterfaceAddresses(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) out.push({ interface: name, family: info.family, address: info.address.replace(/%.*$/, "") });
  }
  return out;
}
