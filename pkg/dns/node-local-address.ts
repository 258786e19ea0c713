// Node-local mode (--node-local-interface): a replica on the host network that answers on the
// kube-dns ClusterIP itself, as NodeLocal DNSCache does, so that pods keep the resolv.conf the
// kubelet wrote and no link-local address is needed. The ClusterIP is put on a dummy interface of
// the node; signpost-proxy (--node-local-replica) then delivers the ClusterIP's DNS packets
// untracked to this socket while the replica is ready, and DNATs them to the cluster-wide
// replicas otherwise. The address is left on the interface at exit: the replica that replaces
// this one binds it again, and while none listens the proxy's DNAT still applies (the address
// being local changes nothing for packets the nat table rewrites).
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import { SignpostError } from "../errors/errors.ts";

/** Runs one command with an argument array (never a shell); the exit code and stderr come back. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<{ exitCode: number; stderr: string }>;

const runIp: RunCommand = async (file, args) => {
  // Loaded on first use: only node-local mode runs a command, and execa with its dependencies
  // would otherwise be read in at every start (about 15 ms of signpost-dns's 0.35 s to "starting").
  const { execa } = await import("execa");
  const r = await execa(file, args, { reject: false, timeout: 10_000 });
  return { exitCode: r.exitCode ?? 1, stderr: typeof r.stderr === "string" ? r.stderr : "" };
};

async function ip(run: RunCommand, args: readonly string[], okWhen?: RegExp): Promise<{ ok: boolean; stderr: string }> {
  const r = await run("ip", args);
  if (r.exitCode === 0 || okWhen?.test(r.stderr) === true) return { ok: true, stderr: r.stderr };
  return { ok: false, stderr: `exit ${r.exitCode}: ${r.stderr.trim().split("\n")[0] ?? ""}` };
}

function failed(args: readonly string[], stderr: string): SignpostError {
  return new SignpostError("SP_EXEC_FAILED", `ip ${args.join(" ")}`, `${stderr} (node-local mode needs CAP_NET_ADMIN and the host network)`);
}

/**
 * Puts `address` on the dummy interface `name` (created and brought up when missing); each step
 * is safe to repeat. A kernel without the dummy driver gets the address on lo instead, which
 * makes it just as local ("lo" as the name asks for that outright).
 */
export async function addNodeLocalAddress(name: string, address: string, log: Logger, run: RunCommand = runIp): Promise<void> {
  let device = name;
  if (name !== "lo") {
    const add = ["link", "add", name, "type", "dummy"];
    // Already there (a restarted replica) is fine.
    const created = await ip(run, add, /File exists/);
    if (!created.ok && /Unknown device type|not supported/i.test(created.stderr)) {
      log.warn({ interface: name, reason: created.stderr }, "node-local mode: no dummy interfaces in this kernel; the listen address goes on lo");
      device = "lo";
    } else if (!created.ok) {
      throw failed(add, created.stderr);
    } else {
      const up = ["link", "set", name, "up"];
      const r = await ip(run, up);
      if (!r.ok) throw failed(up, r.stderr);
    }
  }
  const addr = ["addr", "replace", `${address}/${isIPv6(address) ? 128 : 32}`, "dev", device];
  const r = await ip(run, addr);
  if (!r.ok) throw failed(addr, r.stderr);
  log.info({ interface: device, address }, "node-local mode: the listen address is a local address of the node");
}
