// signpost-dns's forward options and cache policy from its --config file, asked with dig: a zone
// with forceTcp asks its upstream over TCP even for a UDP client, and stops doing so once a reload
// drops forceTcp; a zone with maxConcurrent refuses a query past it (REFUSED, counted); a popular
// answer near its expiry is refreshed behind the cache (prefetch); an expired answer is served
// stale with a 30 s TTL once its upstream goes silent (serveStale). The upstreams are scripted
// servers on loopback addresses of the test's namespace (UDP and TCP on port 53); the cluster
// is an empty objects file (offline mode).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { addressRecords, responseHead, ScriptedUpstream } from "../support/dns-scripted-upstream.ts";
import { eventually } from "../support/eventually.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-forward-cache-"));
const objects = join(dir, "objects.yaml");
writeFileSync(objects, "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: default}}\n");
const configFile = join(dir, "dns.yaml");

/** Transports each upstream was asked over, by name. */
const asked: Record<string, ("udp" | "tcp")[]> = {};
let staleUpstreamSilent = false;
let tcpZone: ScriptedUpstream;
let limitedZone: ScriptedUpstream;
let root: ScriptedUpstream;
let daemon: DnsDaemonProcess;
const q = (...args: string[]) => dig("127.0.0.1", daemon.ports.dns, ...args);
/** The TTL of the first answer record, from dig's raw output. */
const ttlOf = (raw: string, name: string): number => Number(new RegExp(`^${name.replaceAll(".", "\\.")}\\.\\s+(\\d+)\\s+IN\\s+A`, "m").exec(raw)?.[1] ?? -1);
const metrics = async () => (await daemon.http("metrics")).body;

const config = (forceTcp: boolean) => `apiVersion: signpost.dev/v1alpha1
kind: DNSConfiguration
forward:
  - zone: .
    to: [ROOT]
  - zone: tcp.example
    to: [TCP]
    forceTcp: ${forceTcp}
    expire: 30s
  - zone: limited.example
    to: [LIMITED]
    maxConcurrent: 1
cache:
  prefetch: {amount: 1, percentage: 90}
  serveStale: {duration: 1h, refreshMode: immediate}
`;

function publish(forceTcp: boolean): void {
  writeFileSync(configFile, config(forceTcp).replace("ROOT", root.address).replace("TCP", tcpZone.address).replace("LIMITED", limitedZone.address));
}

beforeAll(async () => {
  const record = (name: string, transport: "udp" | "tcp") => (asked[name] ??= []).push(transport);
  tcpZone = await ScriptedUpstream.start(({ message, name, transport }) => {
    record(name, transport);
    return Buffer.concat([responseHead(message, { answers: 1 }), addressRecords(1, 300)]);
  });
  // Never answers: every query to it stays in flight until the forwarder gives up.
  limitedZone = await ScriptedUpstream.start(() => null);
  root = await ScriptedUpstream.start(({ message, name, transport }) => {
    record(name, transport);
    if (name === "stale.example" && staleUpstreamSilent) return null;
    const ttl = name === "stale.example" ? 1 : 10;
    return Buffer.concat([responseHead(message, { answers: 1 }), addressRecords(1, ttl)]);
  });
  publish(true);
  daemon = await DnsDaemonProcess.start(["--objects", objects, "--listen", "127.0.0.1:0", "--config", configFile, "--config-poll-interval", "200ms"]);
});

afterAll(async () => {
  await daemon.kill();
  await Promise.all([tcpZone.stop(), limitedZone.stop(), root.stop()]);
});

describe("forward options and cache policy from the --config file", () => {
  it("forceTcp: a UDP client's question goes upstream over TCP; after a reload without it, over UDP", async () => {
    expect((await q("+notcp", "a.tcp.example", "A")).answer).toEqual(["a.tcp.example. A 198.18.0.0"]);
    expect((await q("+notcp", "b.tcp.example", "A")).answer).toEqual(["b.tcp.example. A 198.18.0.0"]);
    expect([asked["a.tcp.example"], asked["b.tcp.example"]]).toEqual([["tcp"], ["tcp"]]);
    publish(false);
    await eventually(() => daemon.lines.some((l) => l["msg"] === "configuration reloaded"), "the configuration without forceTcp reloaded");
    expect((await q("+notcp", "c.tcp.example", "A")).answer).toEqual(["c.tcp.example. A 198.18.0.0"]);
    expect(asked["c.tcp.example"]).toEqual(["udp"]);
  });

  it("maxConcurrent: with one query in flight to the zone's upstream, another is REFUSED and counted", async () => {
    let attempt = 0;
    await eventually(async () => {
      attempt++;
      const held = q("+notcp", `held${attempt}.limited.example`, "A");
      await eventually(() => limitedZone.queriesFor(`held${attempt}.limited.example`) > 0, "the held query reached its upstream");
      const refused = await q("+notcp", `next${attempt}.limited.example`, "A");
      await held;
      return refused.status === "REFUSED" && limitedZone.queriesFor(`next${attempt}.limited.example`) === 0;
    }, "a query past maxConcurrent refused without reaching the upstream");
    expect(await metrics()).toMatch(/^coredns_forward_max_concurrent_rejects_total [1-9]\d*$/m);
  });

  it("prefetch: a popular answer with 90% of its TTL gone is asked again behind the cache", async () => {
    expect(ttlOf((await q("+notcp", "popular.example", "A")).raw, "popular.example")).toBe(10);
    await eventually(async () => {
      const answer = await q("+notcp", "popular.example", "A");
      return answer.answer.length === 1 && (asked["popular.example"]?.length ?? 0) >= 2;
    }, "the upstream asked again for popular.example while clients were answered from the cache");
    expect(await metrics()).toMatch(/^coredns_cache_prefetch_total\{server="dns:\/\/127\.0\.0\.1:\d+",view="",zones="\."\} [1-9]\d*$/m);
  });

  it("serveStale: once the upstream is silent, the expired answer is served at once with a 30 s TTL", async () => {
    expect((await q("+notcp", "stale.example", "A")).answer).toEqual(["stale.example. A 198.18.0.0"]);
    staleUpstreamSilent = true;
    await eventually(async () => ttlOf((await q("+notcp", "stale.example", "A")).raw, "stale.example") === 30, "the stale answer served with TTL 30");
    const result = await q("+tcp", "stale.example", "A");
    expect([result.status, result.answer]).toEqual(["NOERROR", ["stale.example. A 198.18.0.0"]]);
    expect(await metrics()).toMatch(/^coredns_cache_served_stale_total\{server="dns:\/\/127\.0\.0\.1:\d+",view="",zones="\."\} [1-9]\d*$/m);
  });
});
