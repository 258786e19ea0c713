// The network namespace signpost-proxy programs, and how each part of it is reached. Its own (a
// DaemonSet's pod on the host network, or its init container): commands run as they are, the
// kernel parameters are the files under /proc/sys, and the interface addresses come from the
// process. Or the one --iptables-netns names (the tests' way to aim a daemon at a node
// namespace): every command runs through `ip netns exec`, and the parameters and addresses are
// read by commands run there too. The choice is made here once, for all three.
import { ExecaRunner, netnsPrefix, type CommandRunner } from "./command-runner.ts";
import { ownInterfaceAddresses, readInterfaceAddresses, type InterfaceAddress } from "./interface-addresses.ts";
import { commandSysctls, procSysctls, type Sysctls } from "./sysctl.ts";

export interface TargetNamespace {
  /** Runs iptables, conntrack and the other commands in the namespace. */
  readonly runner: CommandRunner;
  readonly sysctls: Sysctls;
  /** The addresses on the namespace's interfaces, read anew on each call. */
  readonly interfaceAddresses: () => Promise<InterfaceAddress[]>;
}

/** The daemon's own namespace when `netns` is null, else the named one. */
export function targetNamespace(netns: string | null): TargetNamespace {
  if (netns === null) return { runner: new ExecaRunner([]), sysctls: procSysctls(), interfaceAddresses: () => Promise.resolve(ownInterfaceAddresses()) };
  const runner = new ExecaRunner(netnsPrefix(netns));
  return { runner, sysctls: commandSysctls(runner), interfaceAddresses: () => readInterfaceAddresses(runner) };
}
