// signpost-proxy's flags and how they combine with a --config file: the file is read first and
// each flag given on the command line overrides its field, as kube-proxy does. The rule flags
// (cluster CIDR, masquerade-all, node-port addresses) are shared with the offline `render` and
// `trace` subcommands, so both render exactly what the daemon programs.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { FlagSpecs, FlagValues } from "../../cli/flags.ts";
import { numberFlag, stringFlag } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { parseCIDR } from "../ip.ts";
import { splitBindAddress } from "../health/listen.ts";
import type { IptablesBackend } from "../iptables/executor.ts";
import { iptablesBackends } from "../iptables/executor.ts";
import type { ProxySettings } from "../proxy-settings.ts";
import { defaultProxySettings } from "../proxy-settings.ts";
import type { KubeProxyConfigValues } from "./kube-proxy-config.ts";
import { parseKubeProxyConfig } from "./kube-proxy-config.ts";

/** Flags that change the rules, accepted by the daemon and by render and trace. */
export const ruleFlags: FlagSpecs = {
  config: { type: "string", help: "a KubeProxyConfiguration file; flags given on the command line override its fields" },
  "cluster-cidr": { type: "string", help: "the pod CIDR(s), comma-separated; traffic to a cluster IP from outside them is masqueraded" },
  "masquerade-all": { type: "boolean", help: "masquerade all traffic sent to cluster IPs" },
  "nodeport-addresses": { type: "string", help: "CIDRs, comma-separated, of the node addresses node ports answer on (default: every address)" },
};

export const daemonFlags: FlagSpecs = {
  kubeconfig: { type: "string", help: "path to a kubeconfig; in-cluster or ~/.kube/config when unset" },
  "hostname-override": { type: "string", help: "this node's name, if not the hostname" },
  ...ruleFlags,
  "min-sync-period": { type: "duration", help: "least time between two syncs of the rules (default 1s)" },
  "sync-period": { type: "duration", help: "most time between two syncs of the rules (default 30s)" },
  "healthz-bind-address": { type: "string", help: "host:port of /healthz and /livez (default 0.0.0.0:10256)" },
  "metrics-bind-address": { type: "string", help: "host:port of /metrics (default 127.0.0.1:10249)" },
  cleanup: { type: "boolean", help: "remove every rule and chain signpost-proxy installed, then exit" },
  "iptables-netns": { type: "string", help: "run iptables, conntrack and sysctl in this network namespace (ip netns exec NAME)" },
  "iptables-backend": {
    type: "string",
    help: "which iptables to run: the node's default, or iptables-legacy / iptables-nft by name (use the one the node's kubelet and CNI use)",
    default: "default",
    choices: iptablesBackends,
  },
};

export interface DaemonOptions {
  readonly kubeconfig: string | undefined;
  readonly nodeName: string;
  readonly settings: ProxySettings;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly healthzBindAddress: string;
  readonly metricsBindAddress: string;
  readonly cleanup: boolean;
  readonly iptablesNetns: string | null;
  readonly iptablesBackend: IptablesBackend;
  /** Config fields present and ignored, with why. */
  readonly ignoredConfig: readonly string[];
}

function splitList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function cidrList(text: string, where: string, code: "SP_BAD_FLAG" | "SP_BAD_CONFIG"): string[] {
  const out = splitList(text);
  for (const c of out) if (parseCIDR(c) === null || !c.includes("/")) throw new SignpostError(code, where, `"${c}" is not a CIDR`);
  return out;
}

function given(values: FlagValues, name: string): boolean {
  return values[name] !== undefined;
}

function readConfig(values: FlagValues): { values: KubeProxyConfigValues; ignored: readonly string[] } {
  const path = stringFlag(values, "config");
  if (path === "") return { values: {}, ignored: [] };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", path, "cannot be read", { cause: err });
  }
  return parseKubeProxyConfig(text, path);
}

function settingsFrom(values: FlagValues, config: KubeProxyConfigValues): ProxySettings {
  const clusterCIDRs = given(values, "cluster-cidr")
    ? cidrList(stringFlag(values, "cluster-cidr"), "--cluster-cidr", "SP_BAD_FLAG")
    : cidrList(config.clusterCIDR ?? "", "clusterCIDR", "SP_BAD_CONFIG");
  const nodePortAddresses = given(values, "nodeport-addresses")
    ? cidrList(stringFlag(values, "nodeport-addresses"), "--nodeport-addresses", "SP_BAD_FLAG")
    : cidrList((config.nodePortAddresses ?? []).join(","), "nodePortAddresses", "SP_BAD_CONFIG");
  return {
    clusterCIDRs,
    masqueradeAll: values["masquerade-all"] === true || (values["masquerade-all"] === undefined && config.masqueradeAll === true),
    nodePortAddresses,
    localhostNodePorts: config.localhostNodePorts ?? defaultProxySettings.localhostNodePorts,
  };
}

/** The rule settings of render and trace: --config, then the rule flags. */
export function resolveRuleSettings(values: FlagValues): ProxySettings {
  return settingsFrom(values, readConfig(values).values);
}

function bindAddress(text: string, where: string): string {
  try {
    splitBindAddress(text);
  } catch {
    throw new SignpostError(where.startsWith("--") ? "SP_BAD_FLAG" : "SP_BAD_CONFIG", where, `"${text}" is not host:port`);
  }
  return text;
}

export function resolveDaemonOptions(values: FlagValues): DaemonOptions {
  const { values: config, ignored } = readConfig(values);
  const pick = (flag: string, fromConfig: string | undefined, fallback: string): string =>
    given(values, flag) ? stringFlag(values, flag) : fromConfig !== undefined && fromConfig !== "" ? fromConfig : fallback;
  const duration = (flag: string, fromConfig: number | undefined, fallback: number): number =>
    given(values, flag) ? numberFlag(values, flag) : (fromConfig ?? fallback);
  const kubeconfig = pick("kubeconfig", config.kubeconfig, "");
  const nodeName = pick("hostname-override", config.hostnameOverride, hostname()).trim().toLowerCase();
  const syncPeriodMs = duration("sync-period", config.syncPeriodMs, 30_000);
  if (syncPeriodMs <= 0) throw new SignpostError("SP_BAD_FLAG", "--sync-period", "must be more than 0");
  const minSyncPeriodMs = duration("min-sync-period", config.minSyncPeriodMs, 1000);
  const netns = stringFlag(values, "iptables-netns");
  if (netns !== "" && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(netns)) throw new SignpostError("SP_BAD_FLAG", "--iptables-netns", `"${netns}" is not a network namespace name`);
  return {
    kubeconfig: kubeconfig === "" ? undefined : kubeconfig,
    nodeName,
    settings: settingsFrom(values, config),
    minSyncPeriodMs,
    syncPeriodMs,
    healthzBindAddress: bindAddress(pick("healthz-bind-address", config.healthzBindAddress, "0.0.0.0:10256"), given(values, "healthz-bind-address") ? "--healthz-bind-address" : "healthzBindAddress"),
    metricsBindAddress: bindAddress(pick("metrics-bind-address", config.metricsBindAddress, "127.0.0.1:10249"), given(values, "metrics-bind-address") ? "--metrics-bind-address" : "metricsBindAddress"),
    cleanup: values["cleanup"] === true,
    iptablesNetns: netns === "" ? null : netns,
    iptablesBackend: (stringFlag(values, "iptables-backend") || "default") as IptablesBackend,
    ignoredConfig: ignored,
  };
}
