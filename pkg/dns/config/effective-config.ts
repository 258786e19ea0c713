// The configuration signpost-dns runs with: the flags, overridden field by field by the --config
// file where it sets them, and the forward zones resolved to upstream addresses (resolv.conf
// files read now). Also which fields a reload can change in place and which wait for a restart.
import { SignpostError } from "../../errors/errors.ts";
import type { DnsDaemonConfig } from "../daemon-flags.ts";
import { type Upstream, upstreamLabel } from "../forwarder.ts";
import { formatListen, readUpstreams, refuseSelfUpstream } from "../resolv-conf.ts";
import { autopathConfig } from "./autopath-config.ts";
import { resolveCachePolicy } from "./cache-config.ts";
import type { DnsConfigFile, ForwardTarget } from "./dns-config-file.ts";
import { describeForwardOptions, type ResolvedForwardOptions, resolveForwardOptions } from "./forward-options.ts";
import { type ClusterOptions, DEFAULT_CLUSTER_OPTIONS, describeClusterOptions } from "./cluster-options.ts";
import { DEFAULT_LOG_SETTINGS, describeLogSettings, logSettings } from "./log-config.ts";
import { describePlugins, type PluginSettings } from "./plugin-settings.ts";

export type ForwardPolicy = "sequential" | "random" | "round_robin";

/** A forward zone with its upstreams, in order, each once. */
export interface ResolvedForwardZone extends ResolvedForwardOptions {
  /** "." or a name without the trailing dot. */
  readonly zone: string;
  readonly upstreams: readonly Upstream[];
  readonly policy: ForwardPolicy;
  /** Consecutive failures that take an upstream out until it answers a probe; 0 never. */
  readonly maxFails: number;
  readonly healthCheckMs: number;
}

/** CoreDNS's health_check default. */
export const DEFAULT_HEALTH_CHECK_MS = 500;

export interface EffectiveDnsConfig {
  readonly daemon: DnsDaemonConfig;
  /** The root zone "." first, then the others by name. */
  readonly forward: readonly ResolvedForwardZone[];
  /** The kubernetes options beyond the flags': restart only, as the rest of `cluster`. */
  readonly cluster: ClusterOptions;
  /** hosts, rewrite, loadbalance: all reload live. */
  readonly plugins: PluginSettings;
}

/** Smaller than this, a cache holds too few answers to be worth its lookups (as the flags). */
const MIN_CACHE_BYTES = 1024 * 1024;
/** RFC 9520: a failure is kept at least 1 s, at most 5 minutes. */
const SERVFAIL_TTL_MS = { min: 1000, max: 300_000 } as const;

function bad(where: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", where, message);
}

/**
 * Flags and file merged. `file` null: the flags alone. `where` names the file in errors; each
 * error names the field (cache.forwardBytes, forward[1].to[0]).
 */
export function effectiveConfig(flags: DnsDaemonConfig, file: DnsConfigFile | null, where: string): EffectiveDnsConfig {
  const f = file ?? {};
  const caches = {
    forwardBytes: cacheBytes(f.forwardCacheBytes ?? flags.caches.forwardBytes, `${where}: cache.forwardBytes`),
    answerBytes: cacheBytes(f.answerCacheBytes ?? flags.caches.answerBytes, `${where}: cache.answerBytes`),
    servfailTtlMs: servfailTtl(f.servfailTtlMs ?? flags.caches.servfailTtlMs, `${where}: cache.servfailTTL`),
    forwardPolicy: resolveCachePolicy(f.cachePolicy, where),
  };
  let daemon: DnsDaemonConfig = {
    ...flags,
    listen: f.listen ?? flags.listen,
    zone: f.zone ?? flags.zone,
    ttl: f.ttl ?? flags.ttl,
    pods: f.pods ?? flags.pods,
    queryLog: f.queryLog ?? flags.queryLog,
    log: logSettings(f.log),
    lameduckMs: f.lameduckMs ?? flags.lameduckMs,
    caches,
  };
  const autopath = autopathConfig(f.autopath, f.autopathSearch, daemon.pods, where);
  if (autopath !== undefined) daemon = { ...daemon, autopath };
  const zones = f.forward ?? [];
  const resolved = zones.map((z, i): ResolvedForwardZone => {
    const at = `${where}: forward[${i}]`;
    if (z.zone !== "." && (z.zone === daemon.zone || z.zone.endsWith(`.${daemon.zone}`))) {
      throw bad(`${at}.zone`, `"${z.zone}" is inside the cluster zone ${daemon.zone}, whose names are answered from the cluster and never forwarded`);
    }
    const upstreams = dedupe(z.to.flatMap((t, j) => resolveTarget(t, `${at}.to[${j}]`)));
    refuseSelf(upstreams, daemon, `${at}.to`);
    return { zone: z.zone, upstreams, policy: z.policy ?? "sequential", maxFails: z.maxFails ?? 0, healthCheckMs: z.healthCheckMs ?? DEFAULT_HEALTH_CHECK_MS, ...resolveForwardOptions(z) };
  });
  if (!resolved.some((z) => z.zone === ".")) {
    // No root zone in the file: --upstream's resolv.conf is the default, as before.
    const upstreams = dedupe(readUpstreams(daemon.upstream));
    refuseSelfUpstream(upstreams, daemon.listen, daemon.upstream);
    resolved.push({ zone: ".", upstreams, policy: "sequential", maxFails: 0, healthCheckMs: DEFAULT_HEALTH_CHECK_MS, ...resolveForwardOptions({}) });
  }
  resolved.sort((a, b) => (a.zone === "." ? -1 : b.zone === "." ? 1 : a.zone.localeCompare(b.zone)));
  return { daemon, forward: resolved, cluster: { ...DEFAULT_CLUSTER_OPTIONS, ...f.cluster }, plugins: { hosts: f.hosts ?? null, rewrite: f.rewrite ?? [], loadbalance: f.loadbalance ?? false } };
}

function resolveTarget(target: ForwardTarget, where: string): Upstream[] {
  if (target.kind === "address") return [{ address: target.address, port: target.port }];
  try {
    return readUpstreams(target.path);
  } catch (err) {
    if (err instanceof SignpostError) throw bad(where, err.message.slice(`${err.code}: ${err.where}: `.length) + ` (${target.path})`);
    throw err;
  }
}

function refuseSelf(upstreams: readonly Upstream[], daemon: DnsDaemonConfig, where: string): void {
  try {
    refuseSelfUpstream(upstreams, daemon.listen, where);
  } catch (err) {
    if (err instanceof SignpostError) throw new SignpostError("SP_DNS_LOOP", where, err.message.slice(`${err.code}: ${err.where}: `.length));
    throw err;
  }
}

function dedupe(upstreams: readonly Upstream[]): Upstream[] {
  const seen = new Set<string>();
  return upstreams.filter((u) => {
    const label = upstreamLabel(u);
    if (seen.has(label)) return false;
    seen.add(label);
    return true;
  });
}

function cacheBytes(n: number, where: string): number {
  if (n !== 0 && n < MIN_CACHE_BYTES) throw bad(where, `${n} bytes is below 1Mi, too small to hold answers; 0 turns the cache off`);
  return n;
}

function servfailTtl(ms: number, where: string): number {
  if (ms !== 0 && (ms < SERVFAIL_TTL_MS.min || ms > SERVFAIL_TTL_MS.max)) throw bad(where, `${ms} ms is outside 1s..5m (RFC 9520); 0s turns it off`);
  return ms;
}

/** The settings as one log line shows them. */
export function describeConfig(config: EffectiveDnsConfig): Record<string, unknown> {
  const d = config.daemon;
  return {
    listen: formatListen(d.listen),
    cluster: { zone: d.zone, ttl: d.ttl, pods: d.pods, ...(d.autopath === undefined ? {} : { autopath: d.autopath }), ...describeClusterOptions(config.cluster) },
    forward: Object.fromEntries(
      config.forward.map((z) => [
        z.zone,
        z.policy === "sequential" && z.maxFails === 0 && Object.keys(describeForwardOptions(z)).length === 0
          ? z.upstreams.map(upstreamLabel)
          : { to: z.upstreams.map(upstreamLabel), policy: z.policy, maxFails: z.maxFails, healthCheckMs: z.healthCheckMs, ...describeForwardOptions(z) },
      ]),
    ),
    cache: { forwardBytes: d.caches.forwardBytes, answerBytes: d.caches.answerBytes, servfailTTLMs: d.caches.servfailTtlMs, ...d.caches.forwardPolicy },
    log: { queries: d.queryLog, ...describeLogSettings(d.log ?? DEFAULT_LOG_SETTINGS) },
    lameduckMs: d.lameduckMs,
    ...describePlugins(config.plugins),
  };
}

/**
 * The fields a reload cannot change in place (they size sockets, caches and the record store),
 * each as `path` of the file that differs between `running` and `next`.
 */
export function restartOnlyChanges(running: EffectiveDnsConfig, next: EffectiveDnsConfig): string[] {
  const a = describeConfig(running);
  const b = describeConfig(next);
  const changed: string[] = [];
  for (const key of ["listen", "cluster", "cache", "lameduckMs"] as const) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) changed.push(key === "lameduckMs" ? "lameduck" : key);
  }
  return changed;
}

/** Whether the forward zones or their upstreams differ. */
export function forwardChanged(running: EffectiveDnsConfig, next: EffectiveDnsConfig): boolean {
  return JSON.stringify(describeConfig(running)["forward"]) !== JSON.stringify(describeConfig(next)["forward"]);
}
