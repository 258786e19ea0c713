// The settings of the plugins that sit around the cluster and the forwarder (hosts, rewrite,
// loadbalance), as the configuration file gives them; all three reload live, as CoreDNS's
// reload restarts them. How they are served is query-plugins.ts's business.
import type { HostsSettings } from "../hosts-source.ts";
import type { RewriteRule } from "../rewrite-rules.ts";
import { bad, string } from "./dns-config-file.ts";

export interface PluginSettings {
  readonly hosts: HostsSettings | null;
  readonly rewrite: readonly RewriteRule[];
  /** CoreDNS's `loadbalance round_robin`. */
  readonly loadbalance: boolean;
}

export const NO_PLUGIN_SETTINGS: PluginSettings = { hosts: null, rewrite: [], loadbalance: false };

/** `loadbalance: round_robin`, CoreDNS's only policy for A and AAAA (its `weighted` is not offered). */
export function parseLoadbalance(value: unknown, path: string): boolean {
  const policy = string(value, path);
  if (policy !== "round_robin") throw bad(path, `"${policy}" is not a policy signpost-dns has; give round_robin`);
  return true;
}

/** The settings as the configuration log line shows them. */
export function describePlugins(settings: PluginSettings): Record<string, unknown> {
  const h = settings.hosts;
  return {
    ...(h === null
      ? {}
      : {
          hosts: { entries: h.entries.length, file: h.file, zones: h.zones, ttl: h.ttl, reverse: h.reverse, fallthrough: h.fallthrough, reloadMs: h.reloadMs, maxFileBytes: h.maxFileBytes },
        }),
    ...(settings.rewrite.length === 0
      ? {}
      : {
          rewrite: settings.rewrite.map((r) => ({
            match: r.match,
            from: r.from,
            to: r.to,
            ...(r.answer === null ? {} : { answer: { from: r.answer.from.source, to: r.answer.to } }),
            ...(r.continue ? { continue: true } : {}),
          })),
        }),
    ...(settings.loadbalance ? { loadbalance: "round_robin" } : {}),
  };
}

/** Whether a reload changes what the plugins do. */
export function pluginsChanged(a: PluginSettings, b: PluginSettings): boolean {
  return JSON.stringify(describePlugins(a)) !== JSON.stringify(describePlugins(b)) || JSON.stringify(a.hosts?.entries) !== JSON.stringify(b.hosts?.entries);
}
