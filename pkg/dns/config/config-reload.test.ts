import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { parseDnsCommandLine } from "../daemon-flags.ts";
import { ReloadMetrics, contentHash, initialConfig, watchDnsConfig } from "./config-reload.ts";
import type { EffectiveDnsConfig } from "./effective-config.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-config-"));
const resolvConf = join(dir, "resolv.conf");
writeFileSync(resolvConf, "nameserver 10.0.0.10\n");
const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";

function flags(file: string) {
  const parsed = parseDnsCommandLine(["--listen", "127.0.0.1:1053", "--upstream", resolvConf, "--config", file]);
  if (parsed.help) throw new Error("help");
  return parsed.config;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({}, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe("the configuration at start", () => {
  it("takes the root zone from --upstream when the file has none, and stub domains from the file", () => {
    const file = join(dir, "start.yaml");
    writeFileSync(file, head + "forward:\n  - {zone: example.corp, to: [10.0.0.53]}\ncluster: {ttl: 30}\n");
    const { config } = initialConfig(flags(file));
    expect(config.forward).toMatchObject([
      { zone: ".", upstreams: [{ address: "10.0.0.10", port: 53 }] },
      { zone: "example.corp", upstreams: [{ address: "10.0.0.53", port: 53 }] },
    ]);
    expect(config.daemon.ttl).toBe(30);
  });

  it("lets the file's root zone win over --upstream, reading a resolv.conf it names", () => {
    const other = join(dir, "other.conf");
    writeFileSync(other, "nameserver 10.0.0.20\nnameserver 10.0.0.20\n");
    const file = join(dir, "root.yaml");
    writeFileSync(file, head + `forward:\n  - {zone: ., to: [${other}, 10.0.0.21]}\n`);
    expect(initialConfig(flags(file)).config.forward).toMatchObject([{ zone: ".", upstreams: [{ address: "10.0.0.20", port: 53 }, { address: "10.0.0.21", port: 53 }] }]);
  });

  it.each([
    ["a stub domain inside the cluster zone", "forward:\n  - {zone: svc.cluster.local, to: [10.0.0.1]}\n", /forward\[0\].zone: "svc.cluster.local" is inside the cluster zone cluster.local/],
    ["an unreadable resolv.conf", "forward:\n  - {zone: ., to: [/nonexistent/resolv.conf]}\n", /forward\[0\].to\[0\]: the resolv.conf does not exist \(\/nonexistent\/resolv.conf\)/],
    ["an upstream that is signpost-dns itself", "forward:\n  - {zone: a.test, to: [\"127.0.0.1:1053\"]}\n", /SP_DNS_LOOP: .*forward\[0\].to: nameserver 127.0.0.1 is signpost-dns's own listen address/],
    ["a cache too small", "cache: {answerBytes: 1Ki}\n", /cache.answerBytes: 1024 bytes is below 1Mi/],
  ])("refuses %s, naming the field", (_, body, message) => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, head + body);
    expect(() => initialConfig(flags(file))).toThrow(message);
  });

  it("refuses a missing file", () => {
    expect(() => initialConfig(flags("/nonexistent/dns.yaml"))).toThrow(/SP_BAD_CONFIG: --config \/nonexistent\/dns.yaml: the file does not exist/);
  });
});

describe("reloading the file", () => {
  it("applies a good new content, refuses a bad one by its field while the last good one stays, and counts both", async () => {
    const file = join(dir, "reload.yaml");
    const first = head + "forward:\n  - {zone: example.corp, to: [10.0.0.53]}\n";
    writeFileSync(file, first);
    const applied: EffectiveDnsConfig[] = [];
    const { log, lines } = capture();
    const metrics = new ReloadMetrics(contentHash(first));
    const reload = watchDnsConfig({ file, flags: flags(file), text: first, intervalMs: 3_600_000, metrics, log, apply: (c) => (applied.push(c), c) });
    try {
      await reload.check();
      expect(applied).toHaveLength(0);

      const second = head + "forward:\n  - {zone: example.corp, to: [10.0.0.54]}\n";
      writeFileSync(file, second);
      await reload.check();
      expect(applied.at(-1)?.forward.find((z) => z.zone === "example.corp")?.upstreams).toEqual([{ address: "10.0.0.54", port: 53 }]);
      expect(lines.at(-1)).toMatchObject({ msg: "configuration reloaded", file, config: { forward: { ".": ["10.0.0.10:53"], "example.corp": ["10.0.0.54:53"] } } });
      expect(metrics.exposition()).toContain(`coredns_reload_version_info{hash="sha512",value="${contentHash(second)}"} 1`);

      writeFileSync(file, head + "forward:\n  - {zone: example.corp, to: [10.0.0.54], polcy: random}\n");
      await reload.check();
      await reload.check();
      expect(applied).toHaveLength(1);
      const refused = lines.filter((l) => typeof l["msg"] === "string" && l["msg"].startsWith("configuration refused"));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ level: 50, file, field: `${file}: forward[0].polcy` });
      expect(metrics.exposition()).toContain("coredns_reload_failed_total 1");
      expect(metrics.exposition()).toContain(`value="${contentHash(second)}"`);

      writeFileSync(file, first);
      await reload.check();
      expect(applied).toHaveLength(2);
    } finally {
      reload.stop();
    }
  });

  it("counts an apply that throws as a failed reload", async () => {
    const file = join(dir, "throws.yaml");
    writeFileSync(file, head);
    const { log } = capture();
    const metrics = new ReloadMetrics(contentHash(head));
    const reload = watchDnsConfig({
      file,
      flags: flags(file),
      text: head,
      intervalMs: 3_600_000,
      metrics,
      log,
      apply: () => {
        throw new Error("no");
      },
    });
    writeFileSync(file, head + "log: {queries: true}\n");
    await reload.check();
    reload.stop();
    expect(metrics.exposition()).toContain("coredns_reload_failed_total 1");
  });
});
