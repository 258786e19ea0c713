import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { TYPE } from "../records.ts";
import { LivePlugins } from "./live-plugins.ts";
import { parseDnsConfigFile } from "./dns-config-file.ts";
import { NO_PLUGIN_SETTINGS, pluginsChanged, type PluginSettings } from "./plugin-settings.ts";

const dir = mkdtempSync(join(tmpdir(), "live-plugins-"));
const settings = (body: string): PluginSettings => {
  const f = parseDnsConfigFile(`apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n${body}`, "dns.yaml");
  return { hosts: f.hosts ?? null, rewrite: f.rewrite ?? [], loadbalance: f.loadbalance ?? false };
};

describe("live plugins", () => {
  it("swaps hosts, rewrite and loadbalance whole, keeping the round-robin, and exposes the hosts metrics", async () => {
    const file = join(dir, "hosts");
    writeFileSync(file, "10.0.0.1 a.example\n10.0.0.2 b.example\n");
    const live = new LivePlugins(pino({ level: "silent" }));
    expect(live.exposition()).toBe("");
    const first = settings(`hosts: {file: ${file}, reload: "0s"}\nloadbalance: round_robin\n`);
    await live.replace(first);
    const rr = live.current().loadbalance;
    expect(live.current().hosts?.answer("a.example", TYPE.A)?.answer).toHaveLength(1);
    expect(live.exposition()).toMatch(/^coredns_hosts_entries 2$/m);

    const second = settings(`rewrite: [{from: x.example, to: a.example}]\nloadbalance: round_robin\n`);
    expect(pluginsChanged(first, second)).toBe(true);
    await live.replace(second);
    expect(live.current().hosts).toBeNull();
    expect(live.current().rewrite).toHaveLength(1);
    expect(live.current().loadbalance).toBe(rr);
    await live.replace(NO_PLUGIN_SETTINGS);
    expect(live.current()).toEqual({ hosts: null, rewrite: [], loadbalance: null });
    live.close();
  });

  it("sees a change of inline entries alone", () => {
    expect(pluginsChanged(settings("hosts: {entries: ['10.0.0.1 a.example']}\n"), settings("hosts: {entries: ['10.0.0.2 a.example']}\n"))).toBe(true);
    expect(pluginsChanged(settings("hosts: {entries: ['10.0.0.1 a.example']}\n"), settings("hosts: {entries: ['10.0.0.1 a.example']}\n"))).toBe(false);
  });
});
