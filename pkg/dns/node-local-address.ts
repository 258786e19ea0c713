// Node-local mode (--node-local-interface): a replica on the host network that answers on the
// kube-dns ClusterIP itself, as NodeLocal DNSCache does, so that pods keep the resolv.conf the
// kubelet wrote and no link-local address is needed. The ClusterIP is put on a dummy interface of
// the node; signpost-proxy (--node-local-replica) then delivers the ClusterIP's DNS packets
// untracked to this socket while the replica is ready, and DNATs them to the cluster-wide
// replicas otherwise. The address is left on the interface at exit: the replica that replaces
// this one binds it again, and while none listens the proxy's DNAT still applies (the address
// being local changes nothing for packets the nat table rewrites).
import { execa } from "execa";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import { SignpostError } from "../errors/errors.ts";

/** Runs one command with an argument array (never a shell); the exit code and stderr come back. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<{ exitCode: number; stderr: string }>;

const runIp: RunCommand = async (file, args) => {
  const r = await execa(file, args, { reject: false, timeout: 10_000 });
  return { exitCode: r.exitCode ?? 1, stderr: typeof r.stderr === "string" ? r.stderr : "" };
};

/** The `ip` calls that put `address` on the dummy interface `name`, each safe to repeat. */
export function nodeLocalAddressCommands(name: string, address: string): { args: readonly string[]; okWhen?: RegExp }[] {
  const prefix = isIPv6(address) ? 128 : 32;
  return [
    // Already there (a restarted replica) is fine.
    { args: ["link", "add", name, "type", "dummy"], okWhen: /File exists/ },
    { args: ["link", "set", name, "up"] },
    { args: ["addr", "replace", `${address}/${prefix}`, "dev", name] },
  ];
}

export async function addNodeLocalAddress(name: string, address: string, log: Logger, run: RunCommand = runIp): Promise<void> {
  for (const { args, okWhen } of nodeLocalAddressCommands(name, address)) {
    const r = await run("ip", args);
    if (r.exitCode === 0 || okWhen?.test(r.stderr) === true) continue;
    throw new SignpostError("SP_EXEC_FAILED", `ip ${args.join(" ")}`, `exit ${r.exitCode}: ${r.stderr.trim().split("\n")[0] ?? ""} (node-local mode needs CAP_NET_ADMIN and the host network)`);
  }
  log.info({ interface: name, address }, "node-local mode: the listen address is on the dummy interface");
}
