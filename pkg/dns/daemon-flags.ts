// signpost-dns's command line: the flags, their help, and their checked translation into the
// daemon's configuration. Every bad value fails here, before a socket or a watch is opened,
// with SP_BAD_FLAG naming the flag.
import { isIP, isIPv6 } from "node:net";
import { numberFlag, parseDuration, parseFlags, parseSize, stringFlag, type FlagSpecs, type FlagValues } from "../cli/flags.ts";
import { DEFAULT_ANSWER_CACHE_BYTES } from "./answer-cache.ts";
import type { ForwardCachePolicy } from "./cache-policy.ts";
import { DEFAULT_FORWARD_CACHE_BYTES } from "./forward-cache.ts";
import { SignpostError } from "../errors/errors.ts";
import type { AutopathConfig } from "./config/autopath-config.ts";
import { DEFAULT_LOG_SETTINGS, type LogSettings } from "./config/log-config.ts";
import type { PodMode } from "./record-store.ts";
import type { ListenAddress } from "./resolv-conf.ts";
import { DEFAULT_TCP_LIMITS, type TcpLimits } from "./tcp-limits.ts";

const MiB = 1024 * 1024;

export const dnsFlags: FlagSpecs = {
  config: {
    type: "string",
    help: "a DNSConfiguration file (signpost.dev/v1alpha1, docs/dns-configuration.md); it wins over the flags it overlaps, and is reloaded when its content changes",
  },
  "config-poll-interval": { type: "duration", help: "how often the --config file is read to see whether it changed", default: "2s" },
  kubeconfig: { type: "string", help: "path to a kubeconfig; in-cluster or ~/.kube/config when unset" },
  zone: { type: "string", help: "the cluster domain", default: "cluster.local" },
  listen: { type: "string", help: "HOST:PORT for DNS over UDP and TCP ([::]:53 for IPv6)", default: "0.0.0.0:53" },
  upstream: { type: "string", help: "resolv.conf whose nameservers get the names outside the zone", default: "/etc/resolv.conf" },
  pods: {
    type: "string",
    help: "pod records a-b-c-d.<ns>.pod.<zone>: disabled, insecure or verified",
    default: "insecure",
    choices: ["disabled", "insecure", "verified"],
  },
  "health-port": { type: "integer", help: "port of /health (0: any free port)", default: 8080 },
  "ready-port": { type: "integer", help: "port of /ready (0: any free port)", default: 8181 },
  "metrics-port": { type: "integer", help: "port of the Prometheus /metrics (0: any free port)", default: 9153 },
  "http-address": {
    type: "string",
    help: "IP address of /health, /ready and /metrics; by default the --listen host when it is one address, else $POD_IP when set (the downward API's status.podIP), else every address",
  },
  "tcp-max-connections": {
    type: "integer",
    help: "TCP connections open at once; one more is closed as soon as it is accepted",
    default: DEFAULT_TCP_LIMITS.maxConnections,
  },
  "tcp-max-connections-per-ip": {
    type: "integer",
    help: "TCP connections open at once from one client IP address",
    default: DEFAULT_TCP_LIMITS.maxConnectionsPerIp,
  },
  "tcp-idle-timeout": { type: "duration", help: "close a TCP connection with no traffic for this long", default: "10s" },
  "tcp-read-timeout": { type: "duration", help: "close a TCP connection whose query is not whole this long after its first byte", default: "3s" },
  "tcp-write-buffer": {
    type: "integer",
    help: "bytes of answers a TCP client may leave unread; past them its connection is not read until it catches up",
    default: DEFAULT_TCP_LIMITS.writeBufferBytes,
  },
  "node-local-interface": {
    type: "string",
    help: "node-local mode (a hostNetwork DaemonSet replica, docs/node-local-dns.md): put the --listen address, the kube-dns ClusterIP, on this dummy interface (created when missing) before listening; signpost-proxy --node-local-replica then sends that ClusterIP's DNS traffic here, untracked",
  },
  lameduck: { type: "duration", help: "on SIGTERM, keep answering this long with /ready failing", default: "5s" },
  "query-log": { type: "boolean", help: `log every query and its answer, at most ${DEFAULT_LOG_SETTINGS.rate} lines a second (log.rate in --config; the rest are counted)`, default: false },
  objects: {
    type: "string",
    help: "serve the objects of this v1 List (YAML or JSON, as kubectl get -o yaml prints it) instead of an API server",
  },
  ttl: { type: "integer", help: "TTL in seconds of cluster records and of negative answers (the SOA minimum), 0..3600", default: 5 },
  "forward-cache-bytes": { type: "size", help: "memory for cached upstream answers (0: no cache)", default: `${DEFAULT_FORWARD_CACHE_BYTES / MiB}Mi` },
  "answer-cache-bytes": { type: "size", help: "memory for cached cluster answers (0: no cache)", default: `${DEFAULT_ANSWER_CACHE_BYTES / MiB}Mi` },
  "servfail-ttl": { type: "duration", help: "answer SERVFAIL from the cache this long after the upstreams failed (0s: never; at most 5m)", default: "5s" },
};

export const dnsSummary =
  "Answers Kubernetes Service and Pod names by the Kubernetes DNS specification and forwards other names (replaces CoreDNS). `signpost-dns import --help`: convert a Corefile or a kube-dns ConfigMap.";

export interface DnsDaemonConfig {
  readonly zone: string;
  readonly listen: ListenAddress;
  /** The resolv.conf the upstreams are read from. */
  readonly upstream: string;
  readonly pods: PodMode;
  readonly healthPort: number;
  readonly readyPort: number;
  readonly metricsPort: number;
  /** Where /health, /ready and /metrics listen. */
  readonly httpAddress: string;
  readonly tcp: TcpLimits;
  readonly lameduckMs: number;
  /** Node-local mode: the dummy interface the --listen address goes on; null otherwise. */
  readonly nodeLocalInterface: string | null;
  readonly queryLog: boolean;
  /** Offline mode: a v1 List file to serve; null to follow the API server. */
  readonly objects: string | null;
  /** null: in-cluster, $KUBECONFIG or ~/.kube/config. */
  readonly kubeconfig: string | null;
  /** Seconds, CoreDNS's `ttl`: of every cluster record and the SOA minimum, which negative answers are cached for. */
  readonly ttl: number;
  readonly caches: CacheConfig;
  /** The --config file; null when not given. */
  readonly configFile: string | null;
  readonly configPollMs: number;
  /** CoreDNS's `autopath @kubernetes`; only the --config file turns it on. */
  readonly autopath?: AutopathConfig;
  /** Query log classes and rate, error consolidation; the defaults when absent (only the --config file sets them). */
  readonly log?: LogSettings;
}

/** The bounds of the two caches; a size of 0 turns that cache off. */
export interface CacheConfig {
  readonly forwardBytes: number;
  readonly answerBytes: number;
  /** How long a failed upstream question is answered SERVFAIL from the cache; 0 never. */
  readonly servfailTtlMs: number;
  /** The forward cache's capacities, TTL ranges, prefetch and serve_stale (--config only); the defaults when absent. */
  readonly forwardPolicy?: ForwardCachePolicy;
}

export type ParsedCommandLine = { readonly help: true } | { readonly help: false; readonly config: DnsDaemonConfig };

/** The environment the daemon reads: POD_IP only. */
export type DnsEnvironment = Readonly<Record<string, string | undefined>>;

export function parseDnsCommandLine(argv: readonly string[], env: DnsEnvironment = {}): ParsedCommandLine {
  const { values, positionals } = parseFlags(argv, dnsFlags);
  if (values["help"] === true) return { help: true };
  if (positionals.length > 0) {
    throw new SignpostError("SP_BAD_FLAG", positionals[0] ?? "", "signpost-dns takes no arguments, only flags (see --help)");
  }
  return { help: false, config: configFrom(values, env) };
}

function configFrom(values: FlagValues, env: DnsEnvironment): DnsDaemonConfig {
  const lameduckMs = durationMs(values, "lameduck");
  const objects = stringFlag(values, "objects");
  const kubeconfig = stringFlag(values, "kubeconfig");
  // Given but empty is a mistake (an unset variable in a manifest), not a request for the default.
  if (values["objects"] === "") throw new SignpostError("SP_BAD_FLAG", "--objects", "is empty; give the path of a v1 List, or leave the flag out to follow the API server");
  if (values["kubeconfig"] === "") throw new SignpostError("SP_BAD_FLAG", "--kubeconfig", "is empty; give the path of a kubeconfig, or leave the flag out for in-cluster or ~/.kube/config");
  if (objects !== "" && kubeconfig !== "") {
    throw new SignpostError("SP_BAD_FLAG", "--objects", "serves a file without an API server; it cannot be used with --kubeconfig");
  }
  const upstream = stringFlag(values, "upstream");
  if (upstream === "") throw new SignpostError("SP_BAD_FLAG", "--upstream", "is empty; give the path of a resolv.conf");
  if (values["config"] === "") throw new SignpostError("SP_BAD_FLAG", "--config", "is empty; give the path of a DNSConfiguration file, or leave the flag out");
  const configPollMs = durationMs(values, "config-poll-interval");
  if (!(configPollMs >= 100)) throw new SignpostError("SP_BAD_FLAG", "--config-poll-interval", "must be at least 100ms");
  const listen = parseListen(stringFlag(values, "listen"));
  const sidePorts = sideServerPorts(values, listen);
  return {
    zone: parseZone(stringFlag(values, "zone")),
    listen,
    upstream,
    pods: podMode(stringFlag(values, "pods")),
    ...sidePorts,
    httpAddress: httpAddress(values, listen, env),
    tcp: tcpLimits(values),
    lameduckMs,
    nodeLocalInterface: nodeLocalInterface(stringFlag(values, "node-local-interface"), listen),
    queryLog: values["query-log"] === true,
    objects: objects === "" ? null : objects,
    kubeconfig: kubeconfig === "" ? null : kubeconfig,
    ttl: recordTtl(values),
    caches: cacheConfig(values),
    configFile: stringFlag(values, "config") === "" ? null : stringFlag(values, "config"),
    configPollMs,
  };
}

/** Node-local mode binds one address of its own: a Linux interface name and a --listen that is not a wildcard. */
function nodeLocalInterface(name: string, listen: ListenAddress): string | null {
  if (name === "") return null;
  if (!/^[^\s/:]{1,15}$/.test(name)) throw new SignpostError("SP_BAD_FLAG", "--node-local-interface", `"${name}" is not an interface name (1 to 15 characters, no "/", ":" or spaces)`);
  if (isWildcard(listen.host)) throw new SignpostError("SP_BAD_FLAG", "--node-local-interface", `needs --listen to name the ClusterIP to answer on (e.g. 10.96.0.10:53), not ${listen.host}`);
  return name;
}

/** CoreDNS's kubernetes plugin takes a ttl of 0..3600 seconds. */
const MAX_TTL = 3600;

function recordTtl(values: FlagValues): number {
  const ttl = numberFlag(values, "ttl");
  if (ttl < 0 || ttl > MAX_TTL) throw new SignpostError("SP_BAD_FLAG", "--ttl", `${ttl} is outside 0..${MAX_TTL} seconds`);
  return ttl;
}

/** Smaller than this, a cache holds too few answers to be worth its lookups. */
const MIN_CACHE_BYTES = 1024 * 1024;
/** RFC 9520: a failure is kept at least 1 s, at most 5 minutes. */
const SERVFAIL_TTL_MS = { min: 1000, max: 300_000 } as const;

function cacheConfig(values: FlagValues): CacheConfig {
  const servfailTtlMs = durationMs(values, "servfail-ttl");
  if (servfailTtlMs !== 0 && (servfailTtlMs < SERVFAIL_TTL_MS.min || servfailTtlMs > SERVFAIL_TTL_MS.max)) {
    throw new SignpostError("SP_BAD_FLAG", "--servfail-ttl", `${servfailTtlMs} ms is outside 1s..5m (RFC 9520); 0s turns it off`);
  }
  return { forwardBytes: cacheBytes(values, "forward-cache-bytes"), answerBytes: cacheBytes(values, "answer-cache-bytes"), servfailTtlMs };
}

function cacheBytes(values: FlagValues, name: string): number {
  const raw = values[name];
  // A default is kept as written ("32Mi"); a given value is parsed already.
  const bytes = typeof raw === "number" ? raw : parseSize(String(raw));
  if (bytes !== 0 && bytes < MIN_CACHE_BYTES) {
    throw new SignpostError("SP_BAD_FLAG", `--${name}`, `${bytes} bytes is below 1Mi, too small to hold answers; 0 turns the cache off`);
  }
  return bytes;
}

/** HOST:PORT with an IP address for HOST; IPv6 in brackets. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined) {
    throw new SignpostError("SP_BAD_FLAG", "--listen", `"${text}" is not HOST:PORT (examples: 0.0.0.0:53, 127.0.0.1:1053, [::]:53)`);
  }
  if (isIP(host) === 0 || (match[1] !== undefined && !isIPv6(host))) {
    throw new SignpostError("SP_BAD_FLAG", "--listen", `"${host}" is not an IP address`);
  }
  const portNumber = Number(match[3]);
  if (portNumber > 65535) throw new SignpostError("SP_BAD_FLAG", "--listen", `port ${portNumber} is outside 0..65535`);
  return { host, port: portNumber };
}

/** A DNS name of letters, digits and hyphens, lower-cased, without the trailing dot. */
export function parseZone(text: string): string {
  const zone = text.toLowerCase().replace(/\.$/, "");
  const labels = zone.split(".");
  const bad = labels.find((l) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
  if (zone === "" || bad !== undefined || zone.length > 253) {
    throw new SignpostError("SP_BAD_FLAG", "--zone", `"${text}" is not a domain name (example: cluster.local)`);
  }
  if (zone === "in-addr.arpa" || zone === "ip6.arpa" || zone.endsWith(".in-addr.arpa") || zone.endsWith(".ip6.arpa")) {
    throw new SignpostError("SP_BAD_FLAG", "--zone", `"${text}" is a reverse zone; signpost-dns serves those itself`);
  }
  return zone;
}

function podMode(text: string): PodMode {
  if (text === "disabled" || text === "insecure" || text === "verified") return text;
  throw new SignpostError("SP_BAD_FLAG", "--pods", `"${text}" is not one of disabled, insecure, verified`);
}

/**
 * The ports of /health, /ready and /metrics: each its own, and none the DNS port (its TCP
 * listener takes that one), so a clash is named here rather than failing as EADDRINUSE later.
 * Port 0 (any free port) never clashes.
 */
function sideServerPorts(values: FlagValues, listen: ListenAddress): { healthPort: number; readyPort: number; metricsPort: number } {
  const ports = { healthPort: port(values, "health-port"), readyPort: port(values, "ready-port"), metricsPort: port(values, "metrics-port") };
  const flags = [["--health-port", ports.healthPort], ["--ready-port", ports.readyPort], ["--metrics-port", ports.metricsPort]] as const;
  flags.forEach(([flag, value], i) => {
    if (value === 0) return;
    if (value === listen.port) throw new SignpostError("SP_BAD_FLAG", flag, `${value} is the DNS port of --listen; give it a port of its own`);
    const earlier = flags.slice(0, i).find(([, other]) => other === value);
    if (earlier !== undefined) throw new SignpostError("SP_BAD_FLAG", flag, `${value} is also ${earlier[0]}; each side server needs a port of its own`);
  });
  return ports;
}

function port(values: FlagValues, name: string): number {
  const value = numberFlag(values, name);
  if (value < 0 || value > 65535) throw new SignpostError("SP_BAD_FLAG", `--${name}`, `${value} is outside 0..65535`);
  return value;
}

/** A duration flag in milliseconds: a default is kept as written ("5s"), so help shows it so. */
function durationMs(values: FlagValues, name: string): number {
  const value = values[name];
  return typeof value === "number" ? value : parseDuration(String(value));
}

/** 0.0.0.0, or :: however it is spelled. */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || (isIPv6(host) && /^[0:]+$/.test(host));
}

/**
 * Where the side servers listen: the flag; else the DNS address when it is one address; else
 * the pod's IP, which the kubelet probes and Prometheus scrapes, and not every address of the
 * pod; else every address.
 */
function httpAddress(values: FlagValues, listen: ListenAddress, env: DnsEnvironment): string {
  const given = values["http-address"];
  if (given !== undefined) {
    const text = String(given);
    if (isIP(text) === 0) throw new SignpostError("SP_BAD_FLAG", "--http-address", `"${text}" is not an IP address (examples: 10.244.1.5, 127.0.0.1, ::)`);
    return text;
  }
  if (!isWildcard(listen.host)) return listen.host;
  const podIP = env["POD_IP"] ?? "";
  if (podIP === "") return listen.host;
  if (isIP(podIP) === 0) {
    throw new SignpostError("SP_BAD_FLAG", "--http-address", `its default, $POD_IP, is "${podIP}", not an IP address; give the pod's status.podIP (downward API) or set --http-address`);
  }
  return podIP;
}

function tcpLimits(values: FlagValues): TcpLimits {
  const positive = (name: string, value: number): number => {
    if (!(value > 0)) throw new SignpostError("SP_BAD_FLAG", `--${name}`, `${value} is not positive`);
    return value;
  };
  const timeout = (name: string): number => {
    const ms = durationMs(values, name);
    if (!(ms > 0)) throw new SignpostError("SP_BAD_FLAG", `--${name}`, "must be longer than 0s");
    return ms;
  };
  return {
    maxConnections: positive("tcp-max-connections", numberFlag(values, "tcp-max-connections")),
    maxConnectionsPerIp: positive("tcp-max-connections-per-ip", numberFlag(values, "tcp-max-connections-per-ip")),
    idleTimeoutMs: timeout("tcp-idle-timeout"),
    readTimeoutMs: timeout("tcp-read-timeout"),
    writeBufferBytes: positive("tcp-write-buffer", numberFlag(values, "tcp-write-buffer")),
  };
}
