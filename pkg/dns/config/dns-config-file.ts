// Reads signpost-dns's --config file: a DNSConfiguration (signpost.dev/v1alpha1) in YAML or
// JSON. Every field is checked where it stands and every unknown field is refused, each error
// naming the file and the field's path ("forward[1].to[0]"), so a typo in a ConfigMap is found
// at once rather than silently ignored. Nothing here reads other files or touches the network.
import { load } from "js-yaml";
import { parseDuration, parseSize } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { parseListen, parseZone } from "../daemon-flags.ts";
import type { PodMode } from "../record-store.ts";
import { readAutopath, readAutopathSearch } from "./autopath-config.ts";
import { type LogFileSettings, readErrorsSection, readLogClasses, readLogRate } from "./log-config.ts";
import type { ListenAddress } from "../resolv-conf.ts";
import { canonicalNameserver } from "../resolv-conf.ts";
import { type CachePolicyFields, readCacheCategory, readPrefetch, readServeStale } from "./cache-config.ts";
import { FORWARD_OPTION_FIELDS, type ForwardOptions, readForwardOptions } from "./forward-options.ts";
import type { HostsSettings } from "../hosts-source.ts";
import type { RewriteRule } from "../rewrite-rules.ts";
import { type ClusterOptionsFile, parseClusterFallthrough, parseNamespaces, parseReverseCIDRs, readFlag } from "./cluster-options.ts";
import { parseHostsConfig } from "./hosts-config.ts";
import { parseLoadbalance } from "./plugin-settings.ts";
import { parseRewriteRules } from "./rewrite-config.ts";
import { errorFirstLine } from "../../errors/error-message.ts";

export const DNS_CONFIG_API_VERSION = "signpost.dev/v1alpha1";
export const DNS_CONFIG_KIND = "DNSConfiguration";

/** Where a zone's queries go: an upstream address, or the nameservers of a resolv.conf. */
export type ForwardTarget =
  | { readonly kind: "address"; readonly address: string; readonly port: number }
  | { readonly kind: "resolv-conf"; readonly path: string };

/** CoreDNS's `forward ZONE TO...`: queries at or under `zone` ("." for every name) go to `to`. */
export interface ForwardZone extends ForwardOptions {
  /** Lower-case, without the trailing dot; "." is the root. */
  readonly zone: string;
  readonly to: readonly ForwardTarget[];
  readonly policy?: "sequential" | "random" | "round_robin";
  readonly maxFails?: number;
  readonly healthCheckMs?: number;
}

/** What the file sets; a field it leaves out is absent and the flag's value stands. */
export interface DnsConfigFile {
  listen?: ListenAddress;
  zone?: string;
  ttl?: number;
  pods?: PodMode;
  autopath?: boolean;
  autopathSearch?: string[];
  forward?: ForwardZone[];
  forwardCacheBytes?: number;
  answerCacheBytes?: number;
  servfailTtlMs?: number;
  /** cache.success, .denial, .prefetch, .serveStale: the forward cache's policy. */
  cachePolicy?: CachePolicyFields;
  queryLog?: boolean;
  log?: LogFileSettings;
  lameduckMs?: number;
  cluster?: ClusterOptionsFile;
  hosts?: HostsSettings;
  rewrite?: RewriteRule[];
  loadbalance?: boolean;
}

export function bad(path: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", path, message);
}

type Fields = Readonly<Record<string, (value: unknown, path: string, out: DnsConfigFile) => void>>;

export function mapping(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw bad(path, "must be a mapping");
  return value as Record<string, unknown>;
}

function walk(value: unknown, path: string, fields: Fields, out: DnsConfigFile): void {
  for (const [name, field] of Object.entries(mapping(value, path))) {
    const at = path === "" ? name : `${path}.${name}`;
    const read = fields[name];
    if (read === undefined) throw bad(at, `is not a field of ${DNS_CONFIG_KIND}${path === "" ? "" : ` ${path}`}; known: ${Object.keys(fields).join(", ")}`);
    if (field === null || field === undefined) continue;
    read(field, at, out);
  }
}

export function string(value: unknown, path: string): string {
  if (typeof value !== "string") throw bad(path, `must be a string, not ${JSON.stringify(value)}`);
  return value;
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw bad(path, `must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

export function durationMs(value: unknown, path: string): number {
  const ms = parseDuration(string(value, path));
  if (Number.isNaN(ms)) throw bad(path, `${JSON.stringify(value)} is not a duration (examples: 5s, 500ms, 1m30s)`);
  return ms;
}

/** A size as a quantity ("32Mi") or a whole number of bytes. */
export function bytes(value: unknown, path: string): number {
  const n = typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : parseSize(typeof value === "string" ? value : "");
  if (Number.isNaN(n)) throw bad(path, `${JSON.stringify(value)} is not a size in bytes (examples: 32Mi, 512Ki, 1048576)`);
  return n;
}

/** A check that throws SP_BAD_FLAG naming a flag, re-thrown as SP_BAD_CONFIG naming the field. */
function asField<T>(path: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof SignpostError) throw bad(path, err.message.slice(`${err.code}: ${err.where}: `.length));
    throw err;
  }
}

/**
 * One `to` entry: IP, IP:PORT, [IPv6]:PORT, or the absolute path of a resolv.conf whose
 * nameservers are read (CoreDNS's `forward . /etc/resolv.conf`).
 */
export function parseForwardTarget(text: string, path: string): ForwardTarget {
  if (text.startsWith("/")) return { kind: "resolv-conf", path: text };
  const withPort = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  const host = withPort === null ? text : (withPort[1] ?? withPort[2] ?? "");
  const port = withPort === null ? 53 : Number(withPort[3]);
  const address = canonicalNameserver(host);
  if (address === null) throw bad(path, `"${text}" is not an upstream: give IP, IP:PORT, [IPv6]:PORT or the path of a resolv.conf`);
  if (port < 1 || port > 65535) throw bad(path, `port ${port} is outside 1..65535`);
  return { kind: "address", address, port };
}

/** "." or a domain name; reverse zones ("10.in-addr.arpa") are allowed here. */
export function forwardZoneName(value: unknown, path: string): string {
  const text = string(value, path);
  if (text === ".") return ".";
  const name = text.toLowerCase().replace(/\.$/, "");
  const labels = name.split(".");
  if (name === "" || name.length > 253 || labels.some((l) => !/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l))) {
    throw bad(path, `"${text}" is not a domain name (examples: ".", example.corp, 10.in-addr.arpa)`);
  }
  return name;
}

function forwardZones(value: unknown, path: string): ForwardZone[] {
  if (!Array.isArray(value)) throw bad(path, "must be a list of {zone, to} entries");
  const seen = new Map<string, number>();
  return value.map((entry, i) => {
    const at = `${path}[${i}]`;
    const fields = mapping(entry, at);
    const known = ["zone", "to", "policy", "maxFails", "healthCheck", ...FORWARD_OPTION_FIELDS];
    for (const name of Object.keys(fields)) {
      if (!known.includes(name)) throw bad(`${at}.${name}`, `is not a field of a forward entry; known: ${known.join(", ")}`);
    }
    const zone = forwardZoneName(fields["zone"], `${at}.zone`);
    const earlier = seen.get(zone);
    if (earlier !== undefined) throw bad(`${at}.zone`, `"${zone}" is also ${path}[${earlier}]; give each zone once, with all its upstreams`);
    seen.set(zone, i);
    const to = fields["to"];
    if (!Array.isArray(to) || to.length === 0) throw bad(`${at}.to`, "must be a list of at least one upstream (IP, IP:PORT or a resolv.conf path)");
    const out: { zone: string; to: ForwardTarget[]; policy?: "sequential" | "random" | "round_robin"; maxFails?: number; healthCheckMs?: number } & ForwardOptions = {
      ...readForwardOptions(fields, at),
      zone,
      to: to.map((t, j) => parseForwardTarget(string(t, `${at}.to[${j}]`), `${at}.to[${j}]`)),
    };
    const policy = fields["policy"];
    if (policy !== undefined && policy !== null) {
      if (policy !== "sequential" && policy !== "random" && policy !== "round_robin") throw bad(`${at}.policy`, `${JSON.stringify(policy)} is not one of sequential, random, round_robin`);
      out.policy = policy;
    }
    const maxFails = fields["maxFails"];
    if (maxFails !== undefined && maxFails !== null) {
      if (typeof maxFails !== "number" || !Number.isInteger(maxFails) || maxFails < 0 || maxFails > 1000) throw bad(`${at}.maxFails`, `must be a whole number from 0 (never taken out) to 1000, not ${JSON.stringify(maxFails)}`);
      out.maxFails = maxFails;
    }
    const healthCheck = fields["healthCheck"];
    if (healthCheck !== undefined && healthCheck !== null) {
      const ms = durationMs(healthCheck, `${at}.healthCheck`);
      if (ms < 100 || ms > 3_600_000) throw bad(`${at}.healthCheck`, "must be from 100ms to 1h");
      out.healthCheckMs = ms;
    }
    return out;
  });
}

/** CoreDNS's kubernetes plugin takes a ttl of 0..3600 seconds. */
const MAX_TTL = 3600;

const clusterFields: Fields = {
  zone: (v, p, out) => void (out.zone = asField(p, () => parseZone(string(v, p)))),
  ttl: (v, p, out) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_TTL) throw bad(p, `must be a whole number of seconds from 0 to ${MAX_TTL}, not ${JSON.stringify(v)}`);
    out.ttl = v;
  },
  pods: (v, p, out) => {
    const mode = string(v, p);
    if (mode !== "disabled" && mode !== "insecure" && mode !== "verified") throw bad(p, `"${mode}" is not one of disabled, insecure, verified`);
    out.pods = mode;
  },
  autopath: (v, p, out) => void (out.autopath = readAutopath(v, p)),
  autopathSearch: (v, p, out) => void (out.autopathSearch = readAutopathSearch(v, p)),
  namespaces: (v, p, out) => void ((out.cluster ??= {}).namespaces = parseNamespaces(v, p)),
  endpointPodNames: (v, p, out) => readFlag((out.cluster ??= {}), "endpointPodNames", v, p),
  noEndpoints: (v, p, out) => readFlag((out.cluster ??= {}), "noEndpoints", v, p),
  reverseCIDRs: (v, p, out) => void ((out.cluster ??= {}).reverseCIDRs = parseReverseCIDRs(v, p)),
  fallthrough: (v, p, out) => void ((out.cluster ??= {}).fallthrough = parseClusterFallthrough(v, p)),
};

const cacheFields: Fields = {
  forwardBytes: (v, p, out) => void (out.forwardCacheBytes = bytes(v, p)),
  answerBytes: (v, p, out) => void (out.answerCacheBytes = bytes(v, p)),
  servfailTTL: (v, p, out) => void (out.servfailTtlMs = durationMs(v, p)),
  success: (v, p, out) => void ((out.cachePolicy ??= {}).success = readCacheCategory(v, p)),
  denial: (v, p, out) => void ((out.cachePolicy ??= {}).denial = readCacheCategory(v, p)),
  prefetch: (v, p, out) => void ((out.cachePolicy ??= {}).prefetch = readPrefetch(v, p)),
  serveStale: (v, p, out) => void ((out.cachePolicy ??= {}).serveStale = readServeStale(v, p)),
};

const logFields: Fields = {
  queries: (v, p, out) => void (out.queryLog = boolean(v, p)),
  classes: (v, p, out) => void ((out.log ??= {}).classes = readLogClasses(v, p)),
  rate: (v, p, out) => void ((out.log ??= {}).rate = readLogRate(v, p)),
  errors: (v, p, out) => void ((out.log ??= {}).consolidate = readErrorsSection(v, p)),
};

const topFields: Fields = {
  apiVersion: () => {},
  kind: () => {},
  listen: (v, p, out) => void (out.listen = asField(p, () => parseListen(string(v, p)))),
  cluster: (v, p, out) => walk(v, p, clusterFields, out),
  forward: (v, p, out) => void (out.forward = forwardZones(v, p)),
  cache: (v, p, out) => walk(v, p, cacheFields, out),
  log: (v, p, out) => walk(v, p, logFields, out),
  lameduck: (v, p, out) => void (out.lameduckMs = durationMs(v, p)),
  hosts: (v, p, out) => void (out.hosts = parseHostsConfig(v, p)),
  rewrite: (v, p, out) => void (out.rewrite = parseRewriteRules(v, p)),
  loadbalance: (v, p, out) => void (out.loadbalance = parseLoadbalance(v, p)),
};

/** Parses the text of a --config file; `file` names it in every error. */
export function parseDnsConfigFile(text: string, file: string): DnsConfigFile {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", file, `not YAML or JSON: ${errorFirstLine(err)}`, { cause: err });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw bad(file, `must be a ${DNS_CONFIG_KIND} mapping`);
  const object = doc as Record<string, unknown>;
  if (object["apiVersion"] !== DNS_CONFIG_API_VERSION) {
    throw bad(`${file}: apiVersion`, `must be ${DNS_CONFIG_API_VERSION}, not ${JSON.stringify(object["apiVersion"])}`);
  }
  if (object["kind"] !== DNS_CONFIG_KIND) throw bad(`${file}: kind`, `must be ${DNS_CONFIG_KIND}, not ${JSON.stringify(object["kind"])}`);
  const out: DnsConfigFile = {};
  try {
    walk(object, "", topFields, out);
  } catch (err) {
    if (err instanceof SignpostError) throw new SignpostError(err.code, `${file}: ${err.where}`, err.message.slice(`${err.code}: ${err.where}: `.length));
    throw err;
  }
  return out;
}
