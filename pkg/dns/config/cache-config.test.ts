import { describe, expect, it } from "vitest";
import { DEFAULT_FORWARD_CACHE_POLICY } from "../cache-policy.ts";
import { parseDnsCommandLine } from "../daemon-flags.ts";
import { resolveCachePolicy } from "./cache-config.ts";
import { parseDnsConfigFile } from "./dns-config-file.ts";
import { effectiveConfig, forwardChanged, restartOnlyChanges } from "./effective-config.ts";

const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const parse = (body: string) => parseDnsConfigFile(head + body, "dns.yaml");

describe("the cache section's forward cache policy", () => {
  it("reads success, denial, prefetch and serveStale, the rest keeping signpost's defaults", () => {
    const file = parse(`
cache:
  forwardBytes: 16Mi
  success: {capacity: 5000, maxTTL: 1h, minTTL: 5s}
  denial: {maxTTL: 30s}
  prefetch: {amount: 10, duration: 2m, percentage: 20}
  serveStale: {duration: 24h, refreshMode: verify}
`);
    expect(resolveCachePolicy(file.cachePolicy, "dns.yaml")).toEqual({
      success: { capacity: 5000, maxTtl: 3600, minTtl: 5 },
      denial: { capacity: 9984, maxTtl: 30, minTtl: 0 },
      prefetch: { amount: 10, durationMs: 120_000, percentage: 20 },
      serveStale: { durationMs: 86_400_000, verify: true },
    });
    expect(resolveCachePolicy(parse("cache: {prefetch: {amount: 3}, serveStale: {}}\n").cachePolicy, "f")).toMatchObject({
      prefetch: { amount: 3, durationMs: 60_000, percentage: 10 },
      serveStale: { durationMs: 3_600_000, verify: false },
    });
    expect(resolveCachePolicy(undefined, "f")).toEqual(DEFAULT_FORWARD_CACHE_POLICY);
  });

  it("refuses a bad value naming its field", () => {
    expect(() => parse("cache: {success: {capacity: -1}}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.success.capacity: must be a whole number from 0 to 10000000");
    expect(() => parse("cache: {denial: {maxTTL: 30}}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.denial.maxTTL: 30 is not a duration");
    expect(() => parse("cache: {success: {ttl: 30s}}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.success.ttl: is not a field of success; known: capacity, maxTTL, minTTL");
    expect(() => parse("cache: {prefetch: {percentage: 50}}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.prefetch.amount: is required");
    expect(() => parse("cache: {prefetch: {amount: 2, percentage: 95}}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.prefetch.percentage: must be a whole number from 10 to 90");
    expect(() => parse("cache: {serveStale: {refreshMode: later}}\n")).toThrow('SP_BAD_CONFIG: dns.yaml: cache.serveStale.refreshMode: "later" is not one of immediate, verify');
    expect(() => parse("cache: {serveStale: {duration: 30d}}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.serveStale.duration:");
    expect(() => resolveCachePolicy(parse("cache: {success: {minTTL: 1m}}\n").cachePolicy, "dns.yaml")).toThrow("SP_BAD_CONFIG: dns.yaml: cache.success.minTTL: 60s is above maxTTL 30s");
  });
});

describe("when the cache policy and forward options take effect", () => {
  const parsed = parseDnsCommandLine(["--listen", "127.0.0.1:1053"]);
  if (parsed.help) throw new Error("no flags parsed");
  const effective = (body: string) => effectiveConfig(parsed.config, parse(body), "dns.yaml");
  const base = "forward:\n  - {zone: ., to: [10.0.0.10]}\n";

  it("a changed cache policy waits for a restart; a changed forward option reloads live", () => {
    const running = effective(base);
    expect(running.daemon.caches.forwardPolicy).toEqual(DEFAULT_FORWARD_CACHE_POLICY);
    const cache = effective(`${base}cache: {serveStale: {duration: 1h}}\n`);
    expect([restartOnlyChanges(running, cache), forwardChanged(running, cache)]).toEqual([["cache"], false]);
    const options = effective("forward:\n  - {zone: ., to: [10.0.0.10], forceTcp: true}\n");
    expect([restartOnlyChanges(running, options), forwardChanged(running, options)]).toEqual([[], true]);
  });
});
