// signpost-proxy's flags and how they combine with a --config file: the file is read first and
// each flag given on the command line overrides its field, as kube-proxy does. The rule flags
// (cluster CIDR, masquerade-all, node-port addresses) are shared with the offline `render` and
// `trace` subcommands, so both render exactly what the daemon programs.
import { accessSync, constants, readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { FlagSpecs, FlagValues } from "../../cli/flags.ts";
import { numberFlag, stringFlag } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { parseCIDR } from "../../model/ip.ts";
import { splitBindAddress } from "../../http/side-server.ts";
import type { IptablesBackend } from "../iptables/executor.ts";
import { iptablesBackends } from "../iptables/executor.ts";
import type { ConntrackSettings } from "../conntrack-sysctls.ts";
import { defaultConntrackSettings } from "../conntrack-sysctls.ts";
import type { ProxySettings } from "../proxy-settings.ts";
import type { DetectLocal, DetectLocalMode } from "../proxy-settings.ts";
import { defaultProxySettings, detectLocalModes, PRIMARY_NODE_IPS } from "../proxy-settings.ts";
import type { KubeProxyConfigValues } from "./kube-proxy-config.ts";
import { parseKubeProxyConfig } from "./kube-proxy-config.ts";
import { parseNodeLocalReplicas, type NodeLocalReplica } from "../node-local/node-local-option.ts";

/** Flags that change the rules, accepted by the daemon and by render and trace. */
export const ruleFlags: FlagSpecs = {
  config: { type: "string", help: "a KubeProxyConfiguration file; flags given on the command line override its fields" },
  "cluster-cidr": { type: "string", help: "the pod CIDR(s), comma-separated; traffic to a cluster IP from outside them is masqueraded" },
  "masquerade-all": { type: "boolean", help: "masquerade all traffic sent to cluster IPs" },
  "detect-local-mode": {
    type: "string",
    help: "how pod traffic is told from the rest: ClusterCIDR (--cluster-cidr), NodeCIDR (the Node's spec.podCIDRs), BridgeInterface (--pod-bridge-interface), InterfaceNamePrefix (--pod-interface-name-prefix); default ClusterCIDR",
  },
  "pod-bridge-interface": { type: "string", help: "with --detect-local-mode BridgeInterface: the bridge the node's pods are attached to" },
  "pod-interface-name-prefix": { type: "string", help: "with --detect-local-mode InterfaceNamePrefix: how the name of every pod interface on the node begins (veth, cali...)" },
  "nodeport-addresses": {
    type: "string",
    help: 'CIDRs, comma-separated, of the local addresses node ports answer on, or "primary" for the node\'s primary IPs (default: every address). The daemon matches them against its interfaces\' addresses; render and trace against the Node object\'s',
  },
};

export const daemonFlags: FlagSpecs = {
  kubeconfig: { type: "string", help: "path to a kubeconfig; in-cluster or ~/.kube/config when unset" },
  "hostname-override": { type: "string", help: "this node's name, if not the hostname" },
  ...ruleFlags,
  "min-sync-period": { type: "duration", help: "least time between two syncs of the rules, after a burst of two that a quiet spell allows (default 1s); under sustained churn a sync also waits as long as the last one took, up to five times this" },
  "sync-period": { type: "duration", help: "most time between two syncs of the rules (default 30s)" },
  "healthz-bind-address": { type: "string", help: "host:port of /healthz and /livez (default 0.0.0.0:10256)" },
  "metrics-bind-address": { type: "string", help: "host:port of /metrics (default 127.0.0.1:10249)" },
  cleanup: { type: "boolean", help: "remove every rule and chain signpost-proxy installed, then exit" },
  "init-only": { type: "boolean", help: "do what needs full root privileges (the conntrack sysctls, route_localnet), then exit; the daemon can then run with CAP_NET_ADMIN only" },
  "write-config-to": { type: "string", help: "write the configuration these flags and --config resolve to, as a KubeProxyConfiguration file, then exit" },
  "bind-address-hard-fail": { type: "boolean", help: "exit when the healthz or metrics address cannot be bound; without it the daemon serves on and retries every 5s, as kube-proxy does" },
  "oom-score-adj": { type: "integer", help: "the process's OOM score adjustment, -1000 to 1000 (default -999, kube-proxy's); a refused write is logged" },
  "config-sync-period": { type: "duration", help: "accepted as in kube-proxy (more than 0, default 15m); signpost's watches keep their caches exact, so a periodic resync would change nothing" },
  "conntrack-max-per-core": { type: "integer", help: "conntrack entries per CPU core; 0 leaves nf_conntrack_max and --conntrack-min alone (default 32768). nf_conntrack_max is only ever raised" },
  "conntrack-min": { type: "integer", help: "the least nf_conntrack_max to set, whatever the core count (default 131072)" },
  "conntrack-tcp-timeout-established": { type: "duration", help: "idle timeout of established TCP flows, 0 to leave the kernel's (default 24h)" },
  "conntrack-tcp-timeout-close-wait": { type: "duration", help: "timeout of TCP flows in CLOSE_WAIT, 0 to leave the kernel's (default 1h)" },
  "conntrack-tcp-be-liberal": { type: "boolean", help: "set nf_conntrack_tcp_be_liberal: out-of-window TCP packets are not marked INVALID" },
  "conntrack-udp-timeout": { type: "duration", help: "idle timeout of UDP flows not yet answered, 0 to leave the kernel's" },
  "conntrack-udp-timeout-stream": { type: "duration", help: "idle timeout of answered (ASSURED) UDP flows, 0 to leave the kernel's" },
  "iptables-netns": { type: "string", help: "run iptables, conntrack and sysctl in this network namespace (ip netns exec NAME)" },
  "iptables-backend": {
    type: "string",
    help: "which iptables to run: the node's default, or iptables-legacy / iptables-nft by name (use the one the node's kubelet and CNI use)",
    default: "default",
    choices: iptablesBackends,
  },
  "node-local-replica": {
    type: "string",
    help: "NAMESPACE/SERVICE=LOCAL_SERVICE[,...]: SERVICE has a replica on every node listening on its own ClusterIP (kube-system/kube-dns=signpost-dns-node-local); while the headless LOCAL_SERVICE has a ready endpoint on this node, the ClusterIP's ports that LOCAL_SERVICE also serves go to it untracked (raw NOTRACK), else DNAT to SERVICE's endpoints as usual (docs/node-local-dns.md)",
  },
};

export interface DaemonOptions {
  readonly kubeconfig: string | undefined;
  /** The --config file and the text it held when read; null without --config. */
  readonly configFile: { readonly path: string; readonly text: string } | null;
  readonly nodeName: string;
  readonly settings: ProxySettings;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly healthzBindAddress: string;
  readonly metricsBindAddress: string;
  readonly cleanup: boolean;
  readonly initOnly: boolean;
  /** The path of --write-config-to, or null. */
  readonly writeConfigTo: string | null;
  /** The node name as given (--hostname-override or hostnameOverride), "" when taken from the host. */
  readonly hostnameOverride: string;
  readonly bindAddressHardFail: boolean;
  readonly oomScoreAdj: number;
  readonly configSyncPeriodMs: number;
  readonly iptablesNetns: string | null;
  readonly iptablesBackend: IptablesBackend;
  readonly conntrack: ConntrackSettings;
  /** Config fields present and ignored, with why. */
  readonly ignoredConfig: readonly string[];
  /** --node-local-replica: the Services steered to a replica on this node. */
  readonly nodeLocalReplicas: readonly NodeLocalReplica[];
}

/** kube-proxy's OOM score adjustment (qos.KubeProxyOOMScoreAdj): the last process the kernel kills. */
const KUBE_PROXY_OOM_SCORE_ADJ = -999;

type ErrorCode = "SP_BAD_FLAG" | "SP_BAD_CONFIG";

/** Where a value came from: a flag, or a field of the --config file; errors name it. */
interface Source {
  readonly where: string;
  readonly code: ErrorCode;
}

function fromFlag(name: string): Source {
  return { where: `--${name}`, code: "SP_BAD_FLAG" };
}

function fromConfig(path: string, field: string): Source {
  return { where: `${path}: ${field}`, code: "SP_BAD_CONFIG" };
}

function fail(source: Source, message: string): SignpostError {
  return new SignpostError(source.code, source.where, message);
}

function splitList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function checkCIDR(c: string, source: Source): void {
  if (parseCIDR(c) === null || !c.includes("/")) throw fail(source, `"${c}" is not a CIDR`);
}

/** --cluster-cidr: at most one CIDR of each family, as kube-proxy takes it. */
function clusterCIDRList(items: readonly string[], source: Source): string[] {
  const seen = new Map<string, string>();
  for (const c of items) {
    checkCIDR(c, source);
    const family = parseCIDR(c)?.family ?? "";
    const other = seen.get(family);
    if (other !== undefined) throw fail(source, `"${other}" and "${c}" are both ${family}; give at most one CIDR of each family`);
    seen.set(family, c);
  }
  return [...items];
}

/**
 * --nodeport-addresses: CIDRs, or the keyword "primary" alone (the node's primary addresses).
 * `at` names one entry of a config list; the flag's entries are named by value.
 */
function nodePortAddressList(items: readonly string[], source: Source, at: (i: number) => Source = () => source): string[] {
  items.forEach((c, i) => {
    if (c === PRIMARY_NODE_IPS) {
      if (items.length > 1) throw fail(at(i), `"${PRIMARY_NODE_IPS}" cannot be combined with CIDRs; give either "${PRIMARY_NODE_IPS}" alone or CIDRs`);
      return;
    }
    checkCIDR(c, at(i));
  });
  return [...items];
}

function given(values: FlagValues, name: string): boolean {
  return values[name] !== undefined;
}

interface ReadConfig {
  readonly path: string;
  readonly text: string;
  readonly values: KubeProxyConfigValues;
  readonly ignored: readonly string[];
}

function readConfig(values: FlagValues): ReadConfig {
  const path = stringFlag(values, "config");
  if (path === "") return { path: "", text: "", values: {}, ignored: [] };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SignpostError("SP_BAD_FLAG", "--config", `${path} cannot be read`, { cause: err });
  }
  return { path, text, ...parseKubeProxyConfig(text, path) };
}

function settingsFrom(values: FlagValues, config: ReadConfig): ProxySettings {
  const c = config.values;
  const clusterCIDRs = given(values, "cluster-cidr")
    ? clusterCIDRList(splitList(stringFlag(values, "cluster-cidr")), fromFlag("cluster-cidr"))
    : clusterCIDRList(splitList(c.clusterCIDR ?? ""), fromConfig(config.path, "clusterCIDR"));
  const nodePortAddresses = given(values, "nodeport-addresses")
    ? nodePortAddressList(splitList(stringFlag(values, "nodeport-addresses")), fromFlag("nodeport-addresses"))
    : nodePortAddressList(c.nodePortAddresses ?? [], fromConfig(config.path, "nodePortAddresses"), (i) => fromConfig(config.path, `nodePortAddresses[${i}]`));
  return {
    clusterCIDRs,
    masqueradeAll: values["masquerade-all"] === true || (values["masquerade-all"] === undefined && c.masqueradeAll === true),
    nodePortAddresses,
    localhostNodePorts: c.localhostNodePorts ?? defaultProxySettings.localhostNodePorts,
    detectLocal: detectLocalFrom(values, config),
  };
}

/** Linux interface names: 1 to 15 bytes, no slash, colon or white space. */
function interfaceName(text: string, source: Source, what: string): string {
  if (!/^[^\s/:]{1,15}$/.test(text)) throw fail(source, `"${text}" is not ${what} (1 to 15 characters, no "/", ":" or spaces)`);
  return text;
}

/** --detect-local-mode and the field its mode needs, as kube-proxy validates them. */
function detectLocalFrom(values: FlagValues, config: ReadConfig): DetectLocal {
  const c = config.values;
  const modeSource = given(values, "detect-local-mode") ? fromFlag("detect-local-mode") : fromConfig(config.path, "detectLocalMode");
  const modeText = given(values, "detect-local-mode") ? stringFlag(values, "detect-local-mode") : (c.detectLocalMode ?? "");
  const mode = modeText === "" ? "ClusterCIDR" : modeText;
  if (!(detectLocalModes as readonly string[]).includes(mode)) throw fail(modeSource, `"${mode}" is not one of ${detectLocalModes.join(", ")}`);
  // A missing field is blamed on the file only when the file chose the mode.
  const fieldSource = (flag: string, field: string): Source =>
    given(values, flag) || config.path === "" || given(values, "detect-local-mode") ? fromFlag(flag) : fromConfig(config.path, field);
  const bridgeSource = fieldSource("pod-bridge-interface", "detectLocal.bridgeInterface");
  const bridge = given(values, "pod-bridge-interface") ? stringFlag(values, "pod-bridge-interface") : (c.bridgeInterface ?? "");
  const prefixSource = fieldSource("pod-interface-name-prefix", "detectLocal.interfaceNamePrefix");
  const prefix = given(values, "pod-interface-name-prefix") ? stringFlag(values, "pod-interface-name-prefix") : (c.interfaceNamePrefix ?? "");
  if (mode === "BridgeInterface") interfaceName(bridge, bridgeSource, "a bridge interface name, which BridgeInterface mode needs");
  if (mode === "InterfaceNamePrefix") interfaceName(prefix, prefixSource, "an interface name prefix, which InterfaceNamePrefix mode needs");
  return { mode: mode as DetectLocalMode, bridgeInterface: bridge, interfaceNamePrefix: prefix };
}

/** The rule settings of render and trace: --config, then the rule flags. */
export function resolveRuleSettings(values: FlagValues): ProxySettings {
  return settingsFrom(values, readConfig(values));
}

function bindAddress(text: string, source: Source): string {
  try {
    splitBindAddress(text);
  } catch {
    throw fail(source, `"${text}" is not host:port`);
  }
  return text;
}

/** Node names are DNS subdomains (RFC 1123): lower case, at most 253 characters. */
function nodeNameFrom(text: string, source: Source): string {
  const name = text.trim().toLowerCase();
  if (name === "") throw fail(source, "is empty");
  if (name.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
    throw fail(source, `"${text}" is not a valid node name (a DNS subdomain: lower-case letters, digits, '-' and '.')`);
  }
  return name;
}

/** The conntrack settings: each flag given wins over its config field, which wins over kube-proxy's default. */
function conntrackFrom(values: FlagValues, config: ReadConfig): ConntrackSettings {
  const file = config.values.conntrack ?? {};
  const count = (flag: string, field: "maxPerCore" | "min"): number => {
    if (!given(values, flag)) return file[field] ?? defaultConntrackSettings[field];
    const n = numberFlag(values, flag);
    if (n < 0 || n > 2 ** 31 - 1) throw fail(fromFlag(flag), `${n} is outside 0..2147483647`);
    return n;
  };
  const timeout = (flag: string, field: "tcpEstablishedTimeout" | "tcpCloseWaitTimeout" | "udpTimeout" | "udpStreamTimeout"): number => {
    if (!given(values, flag)) return file[field] ?? defaultConntrackSettings[field];
    const ms = numberFlag(values, flag);
    if (ms < 0) throw fail(fromFlag(flag), "must not be negative");
    return Math.floor(ms / 1000);
  };
  return {
    maxPerCore: count("conntrack-max-per-core", "maxPerCore"),
    min: count("conntrack-min", "min"),
    tcpEstablishedTimeout: timeout("conntrack-tcp-timeout-established", "tcpEstablishedTimeout"),
    tcpCloseWaitTimeout: timeout("conntrack-tcp-timeout-close-wait", "tcpCloseWaitTimeout"),
    tcpBeLiberal: given(values, "conntrack-tcp-be-liberal") ? values["conntrack-tcp-be-liberal"] === true : (file.tcpBeLiberal ?? false),
    udpTimeout: timeout("conntrack-udp-timeout", "udpTimeout"),
    udpStreamTimeout: timeout("conntrack-udp-timeout-stream", "udpStreamTimeout"),
  };
}

export function resolveDaemonOptions(values: FlagValues): DaemonOptions {
  const config = readConfig(values);
  const c = config.values;
  /** The flag's value when given, else the config field's when set, else the fallback; with its source. */
  const pick = (flag: string, field: string, fromFile: string | undefined, fallback: string): { value: string; source: Source } => {
    if (given(values, flag)) return { value: stringFlag(values, flag), source: fromFlag(flag) };
    if (fromFile !== undefined && fromFile !== "") return { value: fromFile, source: fromConfig(config.path, field) };
    return { value: fallback, source: fromFlag(flag) };
  };
  const pickNumber = (flag: string, field: string, fromFile: number | undefined, fallback: number): { value: number; source: Source } => {
    if (given(values, flag)) return { value: numberFlag(values, flag), source: fromFlag(flag) };
    if (fromFile !== undefined) return { value: fromFile, source: fromConfig(config.path, field) };
    return { value: fallback, source: fromFlag(flag) };
  };

  const kubeconfig = pick("kubeconfig", "clientConnection.kubeconfig", c.kubeconfig, "");
  if (kubeconfig.value !== "") {
    try {
      accessSync(kubeconfig.value, constants.R_OK);
    } catch {
      throw fail(kubeconfig.source, `${kubeconfig.value} does not exist or is not readable`);
    }
  }
  const host = pick("hostname-override", "hostnameOverride", c.hostnameOverride, "");
  const nodeName = host.value === "" ? nodeNameFrom(hostname(), { where: "the host name (set --hostname-override)", code: "SP_BAD_FLAG" }) : nodeNameFrom(host.value, host.source);
  const sync = pickNumber("sync-period", "iptables.syncPeriod", c.syncPeriodMs, 30_000);
  if (sync.value <= 0) throw fail(sync.source, "must be more than 0");
  const minSync = pickNumber("min-sync-period", "iptables.minSyncPeriod", c.minSyncPeriodMs, 1000);
  if (minSync.value > sync.value) {
    // kube-proxy refuses this too: the runner could never honour both.
    const blamed = given(values, "min-sync-period") || !given(values, "sync-period") ? minSync.source : sync.source;
    throw fail(blamed, `the min sync period (${minSync.value} ms) is longer than the sync period (${sync.value} ms)`);
  }
  const netns = stringFlag(values, "iptables-netns");
  if (netns !== "" && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(netns)) throw fail(fromFlag("iptables-netns"), `"${netns}" is not a network namespace name`);
  const oom = pickNumber("oom-score-adj", "oomScoreAdj", c.oomScoreAdj, KUBE_PROXY_OOM_SCORE_ADJ);
  if (!Number.isInteger(oom.value) || oom.value < -1000 || oom.value > 1000) throw fail(oom.source, `${oom.value} is outside -1000..1000`);
  const configSync = pickNumber("config-sync-period", "configSyncPeriod", c.configSyncPeriodMs, 15 * 60_000);
  if (configSync.value <= 0) throw fail(configSync.source, "must be more than 0");
  const healthz = pick("healthz-bind-address", "healthzBindAddress", c.healthzBindAddress, "0.0.0.0:10256");
  const metrics = pick("metrics-bind-address", "metricsBindAddress", c.metricsBindAddress, "127.0.0.1:10249");
  return {
    kubeconfig: kubeconfig.value === "" ? undefined : kubeconfig.value,
    configFile: config.path === "" ? null : { path: config.path, text: config.text },
    nodeName,
    settings: settingsFrom(values, config),
    minSyncPeriodMs: minSync.value,
    syncPeriodMs: sync.value,
    healthzBindAddress: bindAddress(healthz.value, healthz.source),
    metricsBindAddress: bindAddress(metrics.value, metrics.source),
    cleanup: values["cleanup"] === true,
    initOnly: values["init-only"] === true,
    writeConfigTo: stringFlag(values, "write-config-to") === "" ? null : stringFlag(values, "write-config-to"),
    hostnameOverride: host.value,
    bindAddressHardFail: given(values, "bind-address-hard-fail") ? values["bind-address-hard-fail"] === true : (c.bindAddressHardFail ?? false),
    oomScoreAdj: oom.value,
    configSyncPeriodMs: configSync.value,
    iptablesNetns: netns === "" ? null : netns,
    iptablesBackend: (stringFlag(values, "iptables-backend") || "default") as IptablesBackend,
    conntrack: conntrackFrom(values, config),
    ignoredConfig: config.ignored,
    nodeLocalReplicas: parseNodeLocalReplicas(stringFlag(values, "node-local-replica")),
  };
}
