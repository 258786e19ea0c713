// Reads a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) file, kube-proxy's --config.
// Every field kube-proxy knows is classified: implemented, refused for a value signpost cannot
// honour (another mode, another masquerade bit), or ignored for a stated reason (it tunes
// something signpost does not have, like another proxy mode's settings or pprof), and then named
// in one log line at start when it holds more than its zero value. Anything else is refused by
// its path, so an operator who migrates a kube-proxy ConfigMap starts with it as it is and learns
// at once which setting does nothing here.
import { load } from "js-yaml";
import { SignpostError } from "../../errors/errors.ts";
import { parseDuration } from "../../cli/flags.ts";
import type { ConntrackSettings } from "../conntrack-sysctls.ts";
import { errorFirstLine } from "../../errors/error-message.ts";

/** The one version of KubeProxyConfiguration that kube-proxy v1.36 reads and writes. */
export const KUBE_PROXY_CONFIG_VERSION = "kubeproxy.config.k8s.io/v1alpha1";

/** The values a config file may set; each is absent when the file does not set it. */
export interface KubeProxyConfigValues {
  kubeconfig?: string;
  hostnameOverride?: string;
  clusterCIDR?: string;
  masqueradeAll?: boolean;
  localhostNodePorts?: boolean;
  nodePortAddresses?: string[];
  minSyncPeriodMs?: number;
  syncPeriodMs?: number;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  conntrack?: Partial<ConntrackSettings>;
  detectLocalMode?: string;
  bridgeInterface?: string;
  interfaceNamePrefix?: string;
  bindAddressHardFail?: boolean;
  oomScoreAdj?: number;
  configSyncPeriodMs?: number;
}

export interface ParsedKubeProxyConfig {
  readonly values: KubeProxyConfigValues;
  /** Fields that were present and ignored, with the reason, for one log line at start. */
  readonly ignored: readonly string[];
}

type Rule =
  | { readonly kind: "use"; readonly apply: (v: unknown, path: string, out: KubeProxyConfigValues) => void }
  | { readonly kind: "ignore"; readonly reason: string }
  | { readonly kind: "section"; readonly fields: Readonly<Record<string, Rule>> };

const use = (apply: (v: unknown, path: string, out: KubeProxyConfigValues) => void): Rule => ({ kind: "use", apply });
const ignore = (reason: string): Rule => ({ kind: "ignore", reason });
const section = (fields: Record<string, Rule>): Rule => ({ kind: "section", fields });

function bad(path: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", path, message);
}

function str(v: unknown, path: string): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "string") throw bad(path, `must be a string, not ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "boolean") throw bad(path, `must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

function duration(v: unknown, path: string): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const ms = parseDuration(str(v, path));
  if (Number.isNaN(ms)) throw bad(path, `${JSON.stringify(v)} is not a duration (examples: 1s, 500ms, 1m30s)`);
  return ms;
}

function count(v: unknown, path: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw bad(path, `must be a whole number from 0 to 2147483647, not ${JSON.stringify(v)}`);
  return v;
}

/** A conntrack timeout in whole seconds, as kube-proxy truncates it; 0s leaves the kernel's. */
function seconds(v: unknown, path: string): number | undefined {
  const ms = duration(v, path);
  if (ms === undefined) return undefined;
  if (ms < 0) throw bad(path, "must not be negative");
  return Math.floor(ms / 1000);
}

function conntrackField<K extends keyof ConntrackSettings>(key: K, read: (v: unknown, path: string) => ConntrackSettings[K] | undefined): Rule {
  return use((v, p, out) => {
    const value = read(v, p);
    if (value !== undefined) out.conntrack = { ...out.conntrack, [key]: value };
  });
}

/** Null, "", 0, false, "0s", empty lists and objects, and objects of such. */
function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === "" || v === 0 || v === false) return true;
  if (typeof v === "string") return parseDuration(v) === 0;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.values(v).every(isZero);
  return false;
}

const otherMode = "configures another proxy mode; signpost-proxy runs the iptables mode";

const schema: Readonly<Record<string, Rule>> = {
  apiVersion: ignore("checked separately"),
  kind: ignore("checked separately"),
  clientConnection: section({
    kubeconfig: use((v, p, out) => void (out.kubeconfig = str(v, p))),
    acceptContentTypes: ignore("signpost watches Services and EndpointSlices in protobuf, other kinds in JSON"),
    contentType: ignore("signpost watches Services and EndpointSlices in protobuf, other kinds in JSON"),
    qps: ignore("signpost's client is not rate-limited on the client side"),
    burst: ignore("signpost's client is not rate-limited on the client side"),
  }),
  hostnameOverride: use((v, p, out) => void (out.hostnameOverride = str(v, p))),
  clusterCIDR: use((v, p, out) => void (out.clusterCIDR = str(v, p))),
  healthzBindAddress: use((v, p, out) => void (out.healthzBindAddress = str(v, p))),
  metricsBindAddress: use((v, p, out) => void (out.metricsBindAddress = str(v, p))),
  bindAddress: ignore("the primary IP family is taken from the Node's addresses"),
  bindAddressHardFail: use((v, p, out) => void (out.bindAddressHardFail = bool(v, p))),
  nodePortAddresses: use((v, p, out) => {
    if (v === null || v === undefined) return;
    if (!Array.isArray(v)) throw bad(p, 'must be a list of CIDRs, or ["primary"]');
    // Each entry is checked (CIDR, or "primary" alone) with the flag's rules, by its index.
    out.nodePortAddresses = v.map((x, i) => str(x, `${p}[${i}]`));
  }),
  mode: use((v, p) => {
    const mode = str(v, p);
    if (mode !== "" && mode !== "iptables") throw bad(p, `"${mode}" is not supported; signpost-proxy implements the iptables mode only`);
  }),
  // Checked with the flags' rules (proxy-options.ts), where the mode meets its field.
  detectLocalMode: use((v, p, out) => void (out.detectLocalMode = str(v, p))),
  detectLocal: section({
    bridgeInterface: use((v, p, out) => void (out.bridgeInterface = str(v, p))),
    interfaceNamePrefix: use((v, p, out) => void (out.interfaceNamePrefix = str(v, p))),
  }),
  // 0s means "the default", as kube-proxy's defaulting treats it.
  syncPeriod: use((v, p, out) => {
    const ms = duration(v, p);
    if (ms !== undefined && ms > 0) out.syncPeriodMs ??= ms;
  }),
  minSyncPeriod: use((v, p, out) => void (out.minSyncPeriodMs ??= duration(v, p))),
  iptables: section({
    masqueradeAll: use((v, p, out) => void (out.masqueradeAll = bool(v, p))),
    localhostNodePorts: use((v, p, out) => void (out.localhostNodePorts = bool(v, p))),
    syncPeriod: use((v, p, out) => {
      const ms = duration(v, p);
      if (ms !== undefined && ms > 0) out.syncPeriodMs = ms;
    }),
    minSyncPeriod: use((v, p, out) => {
      const ms = duration(v, p);
      if (ms !== undefined) out.minSyncPeriodMs = ms;
    }),
    masqueradeBit: use((v, p) => {
      if (v !== null && v !== undefined && v !== 14) throw bad(p, `${JSON.stringify(v)} is not supported; signpost marks with bit 14 (0x4000), kube-proxy's default`);
    }),
  }),
  ipvs: ignore(otherMode),
  nftables: ignore(otherMode),
  winkernel: ignore(otherMode),
  windowsRunAsService: ignore("signpost-proxy runs on Linux only"),
  conntrack: section({
    maxPerCore: conntrackField("maxPerCore", count),
    min: conntrackField("min", count),
    tcpEstablishedTimeout: conntrackField("tcpEstablishedTimeout", seconds),
    tcpCloseWaitTimeout: conntrackField("tcpCloseWaitTimeout", seconds),
    tcpBeLiberal: conntrackField("tcpBeLiberal", bool),
    udpTimeout: conntrackField("udpTimeout", seconds),
    udpStreamTimeout: conntrackField("udpStreamTimeout", seconds),
  }),
  // 0s means kube-proxy's default (15m), as for the sync periods.
  configSyncPeriod: use((v, p, out) => {
    const ms = duration(v, p);
    if (ms !== undefined && ms > 0) out.configSyncPeriodMs = ms;
  }),
  portRange: ignore("the userspace proxy's port range, which kube-proxy v1.36 ignores too"),
  oomScoreAdj: use((v, p, out) => {
    if (v === null || v === undefined) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < -1000 || v > 1000) throw bad(p, `must be a whole number from -1000 to 1000, not ${JSON.stringify(v)}`);
    out.oomScoreAdj = v;
  }),
  enableProfiling: ignore("signpost-proxy serves no pprof endpoint; profile it with node's --cpu-prof"),
  featureGates: ignore("signpost-proxy has no feature gates: it behaves as kube-proxy v1.36 with its default gates"),
  showHiddenMetricsForVersion: ignore("signpost-proxy hides no metrics"),
  logging: ignore("signpost-proxy always logs pino JSON to stdout"),
};

function walk(object: Record<string, unknown>, fields: Readonly<Record<string, Rule>>, prefix: string, out: KubeProxyConfigValues, ignored: string[]): void {
  for (const [name, value] of Object.entries(object)) {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    const rule = fields[name];
    if (rule === undefined) throw bad(path, "is not a field of KubeProxyConfiguration that signpost-proxy knows; remove it");
    switch (rule.kind) {
      case "use":
        rule.apply(value, path, out);
        break;
      case "ignore":
        if ((prefix !== "" || (name !== "apiVersion" && name !== "kind")) && !isZero(value)) ignored.push(`${path}: ${rule.reason}`);
        break;
      case "section":
        if (value === null || value === undefined) break;
        if (typeof value !== "object" || Array.isArray(value)) throw bad(path, "must be a mapping");
        walk(value as Record<string, unknown>, rule.fields, path, out, ignored);
        break;
    }
  }
}

/** Parses the text of a --config file; `where` names it in errors. */
export function parseKubeProxyConfig(text: string, where: string): ParsedKubeProxyConfig {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", where, `not YAML or JSON: ${errorFirstLine(err)}`, { cause: err });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw bad(where, "must be a KubeProxyConfiguration mapping");
  const object = doc as Record<string, unknown>;
  if (object["kind"] !== "KubeProxyConfiguration") throw bad(`${where}: kind`, `must be KubeProxyConfiguration, not ${JSON.stringify(object["kind"])}`);
  if (object["apiVersion"] !== KUBE_PROXY_CONFIG_VERSION) {
    // Kubernetes v1.36 defines no other version (kube-proxy's own v1alpha2 is not served yet).
    throw bad(`${where}: apiVersion`, `must be ${KUBE_PROXY_CONFIG_VERSION}, the only version kube-proxy v1.36 reads, not ${JSON.stringify(object["apiVersion"])}`);
  }
  const values: KubeProxyConfigValues = {};
  const ignored: string[] = [];
  try {
    walk(object, schema, "", values, ignored);
  } catch (err) {
    if (err instanceof SignpostError) throw new SignpostError(err.code, `${where}: ${err.where}`, err.message.slice(`${err.code}: ${err.where}: `.length));
    throw err;
  }
  return { values, ignored };
}
