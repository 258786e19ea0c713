// Sizes and times the kernel's conntrack table the way kube-proxy does at start
// (KubeProxyConfiguration.conntrack and the --conntrack-* flags): nf_conntrack_max from
// maxPerCore × CPUs with a floor, the hash table to a quarter of it, and the TCP/UDP timeouts.
// One rule of our own: nf_conntrack_max is only ever raised. A node whose table someone sized
// larger keeps it (kube-proxy v1.36 would shrink it to its formula's value).
import { HASHSIZE_PATH, type HashsizeFile, sysctlRefused, type Sysctls } from "./exec/sysctl.ts";
import { errorMessage } from "../errors/error-message.ts";

export interface ConntrackSettings {
  /** Entries per CPU; 0 leaves nf_conntrack_max and the hash size alone (and ignores min). */
  readonly maxPerCore: number;
  readonly min: number;
  /** Seconds; 0 leaves the kernel's value. */
  readonly tcpEstablishedTimeout: number;
  readonly tcpCloseWaitTimeout: number;
  readonly tcpBeLiberal: boolean;
  readonly udpTimeout: number;
  readonly udpStreamTimeout: number;
}

/** kube-proxy's defaults (v1alpha1 defaulting): 32768 per core, at least 131072, 24 h, 1 h. */
export const defaultConntrackSettings: ConntrackSettings = {
  maxPerCore: 32 * 1024,
  min: 128 * 1024,
  tcpEstablishedTimeout: 24 * 3600,
  tcpCloseWaitTimeout: 3600,
  tcpBeLiberal: false,
  udpTimeout: 0,
  udpStreamTimeout: 0,
};

/** kube-proxy's cap on the scaled value, so that a machine with many cores does not pin gigabytes. */
const MAX_LIMIT = 1 << 20;

/** nf_conntrack_max as kube-proxy computes it; 0 means "leave it". */
export function conntrackMax(settings: ConntrackSettings, cpus: number): number {
  if (settings.maxPerCore <= 0) return 0;
  const scaled = settings.maxPerCore * cpus;
  if (scaled > MAX_LIMIT) return MAX_LIMIT;
  return Math.max(scaled, settings.min);
}

export interface SysctlChange {
  /** A sysctl key (net.netfilter.…), or the hash size's /sys path. */
  readonly key: string;
  readonly value: number;
}

/**
 * The writes that bring the kernel to the settings, given its current values (a key missing
 * from `current` could not be read, and is written). Pure, for tests.
 */
export function planConntrackSysctls(settings: ConntrackSettings, cpus: number, current: ReadonlyMap<string, number>): SysctlChange[] {
  const out: SysctlChange[] = [];
  const max = conntrackMax(settings, cpus);
  if (max > 0) {
    const now = current.get("net.netfilter.nf_conntrack_max");
    if (now === undefined || now < max) out.push({ key: "net.netfilter.nf_conntrack_max", value: max });
    const effective = Math.max(max, now ?? 0);
    const hashsize = current.get(HASHSIZE_PATH);
    if (hashsize === undefined || hashsize < Math.floor(effective / 4)) out.push({ key: HASHSIZE_PATH, value: Math.floor(effective / 4) });
  }
  const timeouts: readonly [string, number][] = [
    ["net.netfilter.nf_conntrack_tcp_timeout_established", settings.tcpEstablishedTimeout],
    ["net.netfilter.nf_conntrack_tcp_timeout_close_wait", settings.tcpCloseWaitTimeout],
    ["net.netfilter.nf_conntrack_tcp_be_liberal", settings.tcpBeLiberal ? 1 : 0],
    ["net.netfilter.nf_conntrack_udp_timeout", settings.udpTimeout],
    ["net.netfilter.nf_conntrack_udp_timeout_stream", settings.udpStreamTimeout],
  ];
  for (const [key, value] of timeouts) {
    if (value > 0 && current.get(key) !== value) out.push({ key, value });
  }
  return out;
}

export interface ConntrackSysctlResult {
  readonly set: readonly SysctlChange[];
  /** Writes the kernel refused, each with its reason (read-only outside the host's netns, for one). */
  readonly failed: readonly { readonly change: SysctlChange; readonly reason: string }[];
  /**
   * nf_conntrack_tcp_be_liberal is on now (written here, or found on); the rules then leave out
   * their DROP of INVALID packets. Off when it could not be read.
   */
  readonly tcpBeLiberal: boolean;
}

/**
 * Applies the settings through `sysctls` (the namespace iptables runs in) and the hash size
 * through `hashsize`. A refused write is reported, not thrown: the rules work without it, and
 * the caller logs it by name.
 */
export async function applyConntrackSysctls(
  settings: ConntrackSettings,
  cpus: number,
  sysctls: Sysctls,
  hashsize: HashsizeFile,
): Promise<ConntrackSysctlResult> {
  const keys = [
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
    "net.netfilter.nf_conntrack_tcp_be_liberal",
    "net.netfilter.nf_conntrack_udp_timeout",
    "net.netfilter.nf_conntrack_udp_timeout_stream",
  ];
  // One read of them all and one write of what differs (and one read back): through the sysctl
  // command each is a process forked from the daemon, and a fleet of them starts at once.
  const current = new Map<string, number>();
  for (const [key, text] of await sysctls.read(keys)) {
    if (text !== "" && Number.isInteger(Number(text))) current.set(key, Number(text));
  }
  const size = await hashsize.read();
  if (size !== null) current.set(HASHSIZE_PATH, size);

  const plan = planConntrackSysctls(settings, cpus, current);
  const writes = new Map(plan.filter((c) => c.key !== HASHSIZE_PATH).map((c) => [c.key, String(c.value)]));
  const refused = new Map([...(await sysctls.write(writes))].map(([key, why]) => [key, sysctlRefused(key, writes.get(key) ?? "", why).message]));
  const set: SysctlChange[] = [];
  const failed: { change: SysctlChange; reason: string }[] = [];
  for (const change of plan) {
    const reason = change.key === HASHSIZE_PATH ? await writeHashsize(hashsize, change.value) : refused.get(change.key);
    if (reason === undefined) set.push(change);
    else failed.push({ change, reason });
  }
  const beLiberal = "net.netfilter.nf_conntrack_tcp_be_liberal";
  const tcpBeLiberal = (set.find((c) => c.key === beLiberal)?.value ?? current.get(beLiberal) ?? 0) !== 0;
  return { set, failed, tcpBeLiberal };
}

/** Why the hash size could not be written; undefined when it was. */
async function writeHashsize(hashsize: HashsizeFile, value: number): Promise<string | undefined> {
  try {
    await hashsize.write(value);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
