// The plugins in service, swapped whole on reload: a new hosts source is built and its file read
// before it takes over, then the old one stops polling. Rewrite rules and the round-robin are
// plain values; the round-robin's turn carries over so the rotation goes on across reloads.
import type { Logger } from "pino";
import { HostsSource } from "../hosts-source.ts";
import { NO_PLUGINS, type QueryPlugins } from "../query-plugins.ts";
import { RoundRobin } from "../round-robin.ts";
import type { PluginSettings } from "./plugin-settings.ts";

export class LivePlugins {
  readonly #log: Logger;
  readonly #roundRobin = new RoundRobin();
  #current: QueryPlugins = NO_PLUGINS;
  /** Bumped by each replace, so a slow hosts file read of an older one never takes over. */
  #version = 0;

  constructor(log: Logger) {
    this.#log = log;
  }

  readonly current = (): QueryPlugins => this.#current;

  /** Serves `settings` once its hosts file (if any) has been read. */
  async replace(settings: PluginSettings): Promise<void> {
    const version = ++this.#version;
    const hosts = settings.hosts === null ? null : new HostsSource(settings.hosts, this.#log, this.#current.hosts);
    await hosts?.start();
    if (version !== this.#version) {
      hosts?.stop();
      return;
    }
    const old = this.#current.hosts;
    this.#current = { rewrite: settings.rewrite, hosts, loadbalance: settings.loadbalance ? this.#roundRobin : null };
    old?.stop();
  }

  /** CoreDNS's hosts metrics, when hosts is configured: the names served and when the file was last read. */
  exposition(): string {
    const hosts = this.#current.hosts;
    if (hosts === null) return "";
    return [
      "# HELP coredns_hosts_entries The combined number of entries in hosts and Corefile.",
      "# TYPE coredns_hosts_entries gauge",
      `coredns_hosts_entries ${hosts.table.byName.size + hosts.table.wildcards.size}`,
      "# HELP coredns_hosts_reload_timestamp_seconds The timestamp of the last reload of hosts file.",
      "# TYPE coredns_hosts_reload_timestamp_seconds gauge",
      `coredns_hosts_reload_timestamp_seconds ${hosts.reloadedAt}`,
      "",
    ].join("\n");
  }

  close(): void {
    this.#version++;
    this.#current.hosts?.stop();
  }
}
