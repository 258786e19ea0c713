// signpost-dns's caches under a hostile client, with its default flags and an upstream of the
// test's making on loopback. The client asks for thousands of names whose upstream answers are
// 60 KB (truncated over UDP, so the daemon asks again over TCP), then for tens of thousands of
// distinct cluster names: memory stays bounded, the caches stay within their flags and count
// what they evict, and a well-behaved client keeps getting its cluster answers. A dead upstream
// is asked once per SERVFAIL TTL however often clients retry, and a CNAME chain that stops
// short is never answered from a cache.
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dig, DnsDaemonProcess } from "../support/dns-daemon.ts";
import { addressRecords, cnameRecord, responseHead, ScriptedUpstream } from "../support/dns-scripted-upstream.ts";
import { DEFAULT_ANSWER_CACHE_BYTES } from "../../pkg/dns/answer-cache.ts";
import { DEFAULT_FORWARD_CACHE_BYTES } from "../../pkg/dns/forward-cache.ts";
import { eventually } from "../support/eventually.ts";
import { clients, createNamespace, service } from "../support/kube.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const MiB = 1024 * 1024;
/** The defaults of --forward-cache-bytes and --answer-cache-bytes. */
const FORWARD_CACHE_BYTES = DEFAULT_FORWARD_CACHE_BYTES;
const ANSWER_CACHE_BYTES = DEFAULT_ANSWER_CACHE_BYTES;
// The peak under these floods is mostly garbage the collector has not yet returned: 200-257 MiB
// over the runs measured, both at the commit before the forward and cache options landed (214,
// 244 MiB) and after them (217, 221, 231 MiB), so it varies from run to run and did not rise with
// them. The caches themselves hold 42 MiB. The bound stays far below what an unbounded cache
// reaches (GiBs), with room over the highest peak measured.
const RSS_BOUND = 320 * MiB;
/** 3,700 A records: a 59 KB answer, which only TCP can carry. */
const BIG_RECORDS = 3700;
const bigRecords = addressRecords(BIG_RECORDS, 300);

let ns = "";
let webIP = "";
let upstream: ScriptedUpstream;
let daemon: DnsDaemonProcess;
const q = (...args: string[]) => dig("127.0.0.1", daemon.ports.dns, ...args);

beforeAll(async () => {
  ns = await createNamespace(c.core, "dnshostile");
  webIP = (await c.core.createNamespacedService({ namespace: ns, body: service(ns, "web") })).spec?.clusterIP ?? "";
  await c.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "partial", namespace: ns }, spec: { type: "ExternalName", externalName: "partial.hostile.test" } },
  });
  upstream = await ScriptedUpstream.start((question) => {
    const { message, name } = question;
    if (name.endsWith(".big.hostile.test")) {
      if (question.transport === "udp") return responseHead(message, { tc: true });
      return Buffer.concat([responseHead(message, { answers: BIG_RECORDS }), bigRecords]);
    }
    if (name === "dead.hostile.test") return null;
    // A CNAME whose target the upstream does not resolve, and no SOA: a chain that stops short.
    if (name === "partial.hostile.test") return Buffer.concat([responseHead(message, { answers: 1 }), cnameRecord("gone.hostile.test", 300)]);
    if (name === "whole.hostile.test") return Buffer.concat([responseHead(message, { answers: 1 }), addressRecords(1, 300)]);
    return responseHead(message, { rcode: 5 });
  });
  const dir = mkdtempSync(join(tmpdir(), "dns-hostile-cache-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${upstream.address}\n`);
  daemon = await DnsDaemonProcess.start(["--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--upstream", resolvConf]);
  await eventually(async () => (await daemon.http("ready")).status === 200, "signpost-dns ready");
  await eventually(async () => (await q(`web.${ns}.svc.cluster.local`, "A")).answer.length === 1, "the Service is served");
});

afterAll(async () => {
  await daemon.kill();
  await upstream.stop();
  await c.core.deleteNamespace({ name: ns });
});

/** A query without EDNS for `name`, type A, with `id`. */
function query(name: string, id: number): Buffer {
  const labels = name.split(".").map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, "latin1")]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/**
 * Asks for each name over UDP, `window` at a time, waiting for each answer (or 5 s) before the
 * next: a flood as fast as the daemon answers, without queueing more than `window` in it.
 */
async function flood(names: readonly string[], window: number): Promise<{ answered: number }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const waiting = new Map<number, () => void>();
  socket.on("message", (message) => waiting.get(message.readUInt16BE(0))?.());
  let answered = 0;
  let next = 0;
  const worker = async (lane: number) => {
    for (let i = next++; i < names.length; i = next++) {
      const id = (lane * 512 + (i % 512)) & 0xffff;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        waiting.set(id, () => {
          clearTimeout(timer);
          answered++;
          resolve();
        });
        socket.send(query(names[i] ?? "", id), daemon.ports.dns, "127.0.0.1");
      });
      waiting.delete(id);
    }
  };
  await Promise.all(Array.from({ length: window }, (_, lane) => worker(lane)));
  socket.close();
  return { answered };
}

function gauge(metrics: string, pattern: RegExp): number {
  const value = pattern.exec(metrics)?.[1];
  if (value === undefined) throw new Error(`no ${String(pattern)} in /metrics`);
  return Number(value);
}

describe("signpost-dns's caches under a hostile client (default flags)", () => {
  it(
    "keeps its memory and both caches bounded under floods of 60 KB upstream answers and of distinct cluster names, and still answers a good client",
    async () => {
      const big = await q("+tcp", "0.big.hostile.test", "A");
      expect(big.answer).toHaveLength(BIG_RECORDS);
      const before = daemon.rssBytes();
      let peak = before;
      const sampler = setInterval(() => {
        if (daemon.alive) peak = Math.max(peak, daemon.rssBytes());
      }, 100);
      const good: string[][] = [];
      let attacking = true;
      const goodClient = (async () => {
        while (attacking) {
          good.push([...(await q("+notcp", `web.${ns}.svc.cluster.local`, "A")).answer]);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      /** The peak RSS at the end of each attack. */
      const peaks: number[] = [];
      try {
        // One attack after the other, the caches still full from the first when the second comes.
        const forwarded = await flood(Array.from({ length: 3000 }, (_, i) => `${i + 1}.big.hostile.test`), 16);
        peaks.push(peak);
        const cluster = await flood(Array.from({ length: 80_000 }, (_, i) => `miss-${i}.${ns}.svc.cluster.local`), 64);
        expect(forwarded.answered).toBeGreaterThan(2000);
        expect(cluster.answered).toBeGreaterThan(70_000);
      } finally {
        attacking = false;
        await goodClient;
        clearInterval(sampler);
      }
      expect(daemon.alive).toBe(true);
      peak = Math.max(peak, daemon.rssBytes());
      const metrics = (await daemon.http("metrics")).body;
      const forwardBytes = gauge(metrics, /^signpost_dns_forward_cache_bytes (\d+)$/m);
      const answerBytes = gauge(metrics, /^signpost_dns_answer_cache_bytes (\d+)$/m);
      const forwardEvictions = gauge(metrics, /^coredns_cache_evictions_total\{[^}]*type="success"\} (\d+)$/m);
      const answerEvictions = gauge(metrics, /^signpost_dns_answer_cache_evictions_total (\d+)$/m);
      const mib = (bytes: number) => (bytes / MiB).toFixed(1);
      console.log(
        `RSS before ${mib(before)} MiB, peak ${mib(peaks[0] ?? 0)} MiB under 60 KB answers, ${mib(peak)} MiB after cluster names too; forward cache ${mib(forwardBytes)} MiB, ${forwardEvictions} evicted; ` +
          `answer cache ${mib(answerBytes)} MiB, ${answerEvictions} evicted; good client asked ${good.length} times`,
      );
      expect(peak).toBeLessThan(RSS_BOUND);
      expect(forwardBytes).toBeLessThanOrEqual(FORWARD_CACHE_BYTES);
      expect(forwardBytes).toBeGreaterThan(FORWARD_CACHE_BYTES / 2);
      expect(forwardEvictions).toBeGreaterThan(1000);
      expect(answerBytes).toBeLessThanOrEqual(ANSWER_CACHE_BYTES);
      expect(answerEvictions).toBeGreaterThan(0);
      expect(good.length).toBeGreaterThan(0);
      for (const answer of good) expect(answer).toEqual([`web.${ns}.svc.cluster.local. A ${webIP}`]);
    },
    600_000,
  );

  it("asks a dead upstream once per SERVFAIL TTL (5 s), not once per client retry", async () => {
    const started = Date.now();
    const retries = 8;
    for (let i = 0; i < retries; i++) expect((await q("+notcp", "dead.hostile.test", "A")).status).toBe("SERVFAIL");
    const elapsed = Date.now() - started;
    // Without the cache each retry waits for the upstream's 2 s timeout and asks it again.
    expect(upstream.queriesFor("dead.hostile.test")).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 5000));
    expect(upstream.queriesFor("dead.hostile.test")).toBeLessThan(retries);
  });

  it("never answers a CNAME chain that stops short from a cache, directly or through an ExternalName", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await q("+notcp", "whole.hostile.test", "A")).answer).toEqual(["whole.hostile.test. A 198.18.0.0"]);
      expect((await q("+notcp", "partial.hostile.test", "A")).answer).toEqual(["partial.hostile.test. CNAME gone.hostile.test."]);
    }
    expect(upstream.queriesFor("whole.hostile.test")).toBe(1);
    expect(upstream.queriesFor("partial.hostile.test")).toBe(3);
    const external = `partial.${ns}.svc.cluster.local`;
    for (let i = 0; i < 2; i++) {
      expect((await q("+notcp", external, "A")).answer).toEqual([
        `${external}. CNAME partial.hostile.test.`,
        "partial.hostile.test. CNAME gone.hostile.test.",
      ]);
    }
    expect(upstream.queriesFor("partial.hostile.test")).toBe(5);
  });
});
