// The query log's classes and budget and the error log's consolidation, as an operator sets them
// in the --config file and changes them live: only the configured classes are written, a flood
// of queries writes a bounded log and counts what it left out, and repeated upstream failures
// matching a pattern become one line per period. The cluster is an objects file (offline); the
// upstream is a small server on a loopback address, and the failing one an address where
// nothing listens.
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryBytes } from "../../pkg/dns/testing/messages.ts";
import { TYPE } from "../../pkg/dns/records.ts";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { LoopbackUpstream } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-log-"));
const objects = join(dir, "objects.yaml");
writeFileSync(objects, "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: default}}\n");
const resolvConf = join(dir, "resolv.conf");
writeFileSync(resolvConf, "nameserver 127.0.0.2\n");
const configFile = join(dir, "dns.yaml");
const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
/** 127.0.0.9: nothing listens there, so every query for example.dead fails. */
const forwardDead = "forward:\n  - {zone: example.dead, to: [127.0.0.9]}\n";

let upstream: LoopbackUpstream;
let daemon: DnsDaemonProcess;
const ask = (name: string) => dig("127.0.0.1", daemon.ports.dns, "+notcp", name, "A");
const queryLines = () => daemon.lines.filter((l) => l["msg"] === "query");
const messages = (prefix: string) => daemon.lines.filter((l) => typeof l["msg"] === "string" && l["msg"].startsWith(prefix));

async function metric(series: string): Promise<number> {
  const line = (await daemon.http("metrics")).body.split("\n").find((l) => l.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1) ?? "0");
}

/** Sends `count` queries over UDP as fast as the socket takes them, and waits for their answers. */
async function flood(names: readonly string[]): Promise<number> {
  const socket = createSocket("udp4");
  let answered = 0;
  const all = new Promise<void>((resolve) =>
    socket.on("message", () => {
      answered++;
      if (answered === names.length) resolve();
    }),
  );
  names.forEach((name, i) => socket.send(queryBytes(name, TYPE.A, { id: i }), daemon.ports.dns, "127.0.0.1"));
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  socket.close();
  return answered;
}

beforeAll(async () => {
  upstream = await LoopbackUpstream.start("127.0.0.2", { address: () => "192.0.2.1" });
  writeFileSync(configFile, `${head}log: {queries: true, classes: [denial], rate: 1}\n${forwardDead}`);
  daemon = await DnsDaemonProcess.start(["--objects", objects, "--listen", "127.0.0.1:0", "--upstream", resolvConf, "--config", configFile, "--config-poll-interval", "200ms"]);
});

afterAll(async () => {
  await daemon?.kill();
  await upstream?.close();
});

describe("the query log", () => {
  it("writes only the configured class, and bounds a flood to its rate, counting every line it left out", async () => {
    expect((await ask("www.example.org")).status).toBe("NOERROR");
    const names = Array.from({ length: 300 }, (_, i) => `missing-${i}.default.svc.cluster.local`);
    expect(await flood(names)).toBe(names.length);
    // Every NXDOMAIN is either written or counted as dropped; nothing else is written.
    const written = () => queryLines().filter((l) => String(l["qname"]).startsWith("missing-")).length;
    await eventually(async () => written() + (await metric('signpost_dns_log_dropped_total{log="queries"}')) === names.length, "each NXDOMAIN written or counted");
    expect(written()).toBeLessThan(names.length);
    expect(queryLines().filter((l) => l["qname"] === "www.example.org.")).toEqual([]);
  });

  it("follows a change of classes live", async () => {
    writeFileSync(configFile, `${head}log: {queries: true, classes: [success], rate: 1000}\n${forwardDead}`);
    await eventually(() => messages("configuration reloaded").length > 0, "the new version is applied");
    expect((await ask("www.example.org")).status).toBe("NOERROR");
    await eventually(() => queryLines().some((l) => l["qname"] === "www.example.org." && l["rcode"] === "NOERROR"), "the success is written");
  });
});

describe("the error log", () => {
  it("writes each upstream failure, or counts those matching a consolidate pattern and writes them once a period", async () => {
    expect((await ask("a.example.dead")).status).toBe("SERVFAIL");
    await eventually(() => messages("query failed").some((l) => String(l["error"]).startsWith("a.example.dead. A: ")), "the failure is written");
    writeFileSync(configFile, `${head}log: {errors: {consolidate: [{period: 1s, pattern: "\\\\.example\\\\.dead\\\\. A: ", level: warning}]}}\n${forwardDead}`);
    await eventually(() => messages("configuration reloaded").length > 1, "the consolidation is applied");
    const direct = messages("query failed").length;
    for (const name of ["b", "c", "d"]) expect((await ask(`${name}.example.dead`)).status).toBe("SERVFAIL");
    // One line a period that saw any: the three failures may fall in one period or straddle more.
    const consolidated = () => daemon.lines.filter((l) => typeof l["msg"] === "string" && / errors like /.test(l["msg"]));
    await eventually(() => consolidated().reduce((sum, l) => sum + Number(l["count"]), 0) === 3, "the three failures counted in consolidated lines");
    for (const line of consolidated()) expect(line).toMatchObject({ level: 40, pattern: "\\.example\\.dead\\. A: " });
    expect(messages("query failed")).toHaveLength(direct);
  });
});
