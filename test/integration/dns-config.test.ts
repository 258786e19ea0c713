// signpost-dns's --config file as an operator uses it: mounted the way a ConfigMap volume is
// (a `..data` symlink swapped to a new directory on each change), stub domains sent to their own
// upstreams, and the file changed under query traffic (UDP and TCP dig loops): each good version
// takes over, a bad one is refused by its field while the last good one keeps serving, and no
// query fails throughout. A kube-dns ConfigMap converted by `signpost-dns import` is served, its
// stub domain answered by a real dnsmasq. The upstreams are small servers on loopback addresses of the test's
// network namespace; the cluster is an empty objects file (offline mode).
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dig, DnsDaemonProcess, runDnsBin } from "../support/dns-daemon.ts";
import { Dnsmasq, LoopbackUpstream } from "../support/dns-upstream.ts";
import { eventually } from "../support/eventually.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-config-"));
const objects = join(dir, "objects.yaml");
writeFileSync(objects, "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: default}}\n");
const resolvConf = join(dir, "resolv.conf");
writeFileSync(resolvConf, "nameserver 127.0.0.2\n");
/** The ConfigMap volume: dns.yaml -> ..data/dns.yaml, ..data -> the current version's directory. */
const volume = join(dir, "volume");
const configFile = join(volume, "dns.yaml");
let version = 0;

/** Publishes `text` as the kubelet's atomic writer does: a new directory, then the ..data symlink swapped by rename. */
function publish(text: string): void {
  version++;
  const versionDir = join(volume, `..v${version}`);
  mkdirSync(versionDir, { recursive: true });
  writeFileSync(join(versionDir, "dns.yaml"), text);
  symlinkSync(`..v${version}`, join(volume, "..data_tmp"));
  renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
  if (version === 1) symlinkSync("..data/dns.yaml", configFile);
}

const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const stubTo = (address: string, extra = "") => `${head}forward:\n  - zone: example.corp\n    to: [${address}]\n${extra}`;

let defaultUpstream: LoopbackUpstream;
let stubA: LoopbackUpstream;
let stubB: LoopbackUpstream;
let daemon: DnsDaemonProcess;
const q = (...args: string[]) => dig("127.0.0.1", daemon.ports.dns, ...args);
const messages = (text: string) => daemon.lines.filter((l) => typeof l["msg"] === "string" && l["msg"].startsWith(text));

beforeAll(async () => {
  defaultUpstream = await LoopbackUpstream.start("127.0.0.2", { address: () => "192.0.2.1" });
  stubA = await LoopbackUpstream.start("127.0.0.3", { address: () => "198.51.100.3" });
  stubB = await LoopbackUpstream.start("127.0.0.4", { address: () => "198.51.100.4" });
  publish(stubTo("127.0.0.3"));
  daemon = await DnsDaemonProcess.start(["--objects", objects, "--listen", "127.0.0.1:0", "--upstream", resolvConf, "--config", configFile, "--config-poll-interval", "200ms"]);
});

afterAll(async () => {
  await daemon.kill();
  await Promise.all([defaultUpstream.close(), stubA.close(), stubB.close()]);
});

describe("the --config file", () => {
  it("logs the effective configuration at start and sends a stub domain to its own upstreams", async () => {
    expect(messages("configuration")[0]).toMatchObject({ file: configFile, config: { forward: { ".": ["127.0.0.2:53"], "example.corp": ["127.0.0.3:53"] } } });
    for (const transport of ["+notcp", "+tcp"]) {
      expect((await q(transport, `www${transport}.example.corp`, "A")).answer).toEqual([`www${transport}.example.corp. A 198.51.100.3`]);
      expect((await q(transport, `www${transport}.example.org`, "A")).answer).toEqual([`www${transport}.example.org. A 192.0.2.1`]);
    }
    // Type A only: each upstream also gets signpost-dns's loop probe (HINFO, a random name).
    expect(stubA.queries.filter((x) => x.qtype === 1).every((x) => x.name.endsWith(".example.corp"))).toBe(true);
    expect(defaultUpstream.queries.some((x) => x.name.endsWith(".example.corp"))).toBe(false);
    expect((await daemon.http("metrics")).body).toMatch(/^coredns_reload_version_info\{hash="sha512",value="[0-9a-f]{128}"\} 1$/m);
  });

  it("reloads under UDP and TCP query traffic without a failed query, refusing a bad version by its field", async () => {
    let stop = false;
    const results = { ok: 0, failed: [] as string[], seen: new Set<string>() };
    const loop = async (transport: string) => {
      for (let i = 0; !stop; i++) {
        const name = `q${i}${transport.slice(1)}.example.corp`;
        try {
          const r = await q(transport, name, "A");
          const address = r.answer[0]?.split(" ")[2] ?? "";
          if (r.status === "NOERROR" && r.answer.length === 1 && address.startsWith("198.51.100.")) {
            results.ok++;
            results.seen.add(address);
          } else results.failed.push(`${name}: ${r.status} ${r.answer.join(",")}`);
        } catch (err) {
          results.failed.push(`${name}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
        }
      }
    };
    const loops = [loop("+notcp"), loop("+tcp"), loop("+notcp")];
    const reloads = () => messages("configuration reloaded").length;
    const okAfter = async (n: number) => eventually(() => results.ok >= n, `${n} answered queries`);
    try {
      await okAfter(20);
      publish(stubTo("127.0.0.4"));
      await eventually(() => reloads() === 1, "the second version reloaded");
      expect((await q("+notcp", "after-b.example.corp", "A")).answer).toEqual(["after-b.example.corp. A 198.51.100.4"]);
      await okAfter(results.ok + 20);

      publish(stubTo("127.0.0.3", "  - zone: example.net\n    to: [127.0.0.3]\n    policy: fastest\n"));
      await eventually(() => messages("configuration refused").length === 1, "the bad version refused");
      expect(messages("configuration refused")[0]).toMatchObject({ file: configFile, field: `${configFile}: forward[1].policy` });
      expect((await q("+notcp", "still-b.example.corp", "A")).answer).toEqual(["still-b.example.corp. A 198.51.100.4"]);
      await okAfter(results.ok + 20);

      // hosts, rewrite and loadbalance reload live too; the loops' names fall through the hosts.
      const plugins = "hosts: {entries: ['10.1.2.3 pinned.example.corp'], fallthrough: true}\nrewrite: [{from: alias.example.corp, to: target.example.corp}]\nloadbalance: round_robin\n";
      publish(stubTo("127.0.0.3", `log: {queries: true}\n${plugins}`));
      await eventually(() => reloads() === 2, "the third version reloaded");
      expect((await q("+notcp", "after-a.example.corp", "A")).answer).toEqual(["after-a.example.corp. A 198.51.100.3"]);
      expect(messages("configuration reloaded")[1]).toMatchObject({ config: { hosts: { entries: 1 }, rewrite: [{ from: "alias.example.corp." }], loadbalance: "round_robin" } });
      await eventually(async () => (await q("+tcp", "pinned.example.corp", "A")).answer[0] === "pinned.example.corp. A 10.1.2.3", "the hosts entry served");
      expect((await q("+notcp", "alias.example.corp", "A")).answer).toEqual(["alias.example.corp. A 198.51.100.3"]);
      expect(stubA.queriesFor("target.example.corp")).toBeGreaterThan(0);
      await eventually(() => daemon.lines.some((l) => l["component"] === "query-log"), "queries logged after log.queries was turned on");
      await okAfter(results.ok + 20);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    console.log(`reload under traffic: ${results.ok} queries answered, ${results.failed.length} failed`);
    expect(results.failed).toEqual([]);
    expect(results.seen).toEqual(new Set(["198.51.100.3", "198.51.100.4"]));
    const metrics = (await daemon.http("metrics")).body;
    expect(metrics).toMatch(/^coredns_reload_failed_total 1$/m);
    expect(metrics).toMatch(/^coredns_forward_requests_total\{to="127.0.0.3:53"\} [1-9]/m);
    expect(daemon.alive).toBe(true);
  });

  it("logs, but does not apply, a change that needs a restart", async () => {
    publish(stubTo("127.0.0.3", "log: {queries: true}\ncluster: {ttl: 60}\n"));
    await eventually(() => messages("these fields changed").length === 1, "the restart-only change reported");
    expect(messages("these fields changed")[0]).toMatchObject({ fields: ["cluster"] });
    expect(messages("configuration reloaded").at(-1)).toMatchObject({ config: { cluster: { ttl: 5 } } });
  });
});

describe("a kube-dns ConfigMap converted by signpost-dns import", () => {
  it("is served: the stub domain by its dnsmasq, other names by the upstream nameservers", async () => {
    const dnsmasq = await Dnsmasq.start({ records: ["--local=/corp.test/", "--host-record=www.corp.test,192.0.2.77"] });
    const configMap = join(dir, "kube-dns.yaml");
    writeFileSync(
      configMap,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-dns, namespace: kube-system}\ndata:\n  stubDomains: |\n    {"corp.test": ["${dnsmasq.address}"]}\n  upstreamNameservers: |\n    ["127.0.0.2"]\n`,
    );
    const converted = await runDnsBin(["import", "--kube-dns-configmap", configMap]);
    expect(converted).toMatchObject({ code: 0, stderr: "" });
    const file = join(dir, "converted.yaml");
    writeFileSync(file, converted.stdout);
    // --upstream names a file with no usable nameserver: every upstream must come from the converted file.
    const empty = join(dir, "empty-resolv.conf");
    writeFileSync(empty, "# none\n");
    const served = await DnsDaemonProcess.start(["--objects", objects, "--listen", "127.0.0.1:0", "--upstream", empty, "--config", file]);
    try {
      for (const transport of ["+notcp", "+tcp"]) {
        expect((await dig("127.0.0.1", served.ports.dns, transport, "www.corp.test", "A")).answer).toEqual(["www.corp.test. A 192.0.2.77"]);
        expect((await dig("127.0.0.1", served.ports.dns, transport, "nope.corp.test", "A")).status).toBe("NXDOMAIN");
        expect((await dig("127.0.0.1", served.ports.dns, transport, `other${transport}.example.org`, "A")).answer).toEqual([`other${transport}.example.org. A 192.0.2.1`]);
      }
      expect(dnsmasq.queriesFor("www.corp.test")).toBeGreaterThan(0);
      expect(dnsmasq.queriesFor("other+notcp.example.org")).toBe(0);
    } finally {
      await served.kill();
      await dnsmasq.stop();
    }
  });
});

describe("two upstreams with health checks (maxFails, healthCheck)", () => {
  it("keeps answering when one is killed, takes it out, and puts it back when it returns", async () => {
    let first = await LoopbackUpstream.start("127.0.0.5", { address: () => "192.0.2.5" });
    const second = await LoopbackUpstream.start("127.0.0.6", { address: () => "192.0.2.6" });
    const file = join(dir, "health.yaml");
    writeFileSync(file, `${head}forward:\n  - {zone: ., to: [127.0.0.5, 127.0.0.6], policy: sequential, maxFails: 1, healthCheck: 200ms}\n`);
    const served = await DnsDaemonProcess.start(["--objects", objects, "--listen", "127.0.0.1:0", "--upstream", resolvConf, "--config", file, "--forward-cache-bytes", "0"]);
    const ask = async (name: string) => (await dig("127.0.0.1", served.ports.dns, "+notcp", name, "A")).answer;
    const healthy = async (address: string) => new RegExp(`^signpost_dns_forward_upstream_healthy\\{to="${address}:53"\\} 1$`, "m").test((await served.http("metrics")).body);
    try {
      expect(await ask("a.example.org")).toEqual(["a.example.org. A 192.0.2.5"]);
      await first.close();
      // Every query answered, by the second upstream, from the first one after the kill.
      for (let i = 0; i < 10; i++) expect(await ask(`down${i}.example.org`)).toEqual([`down${i}.example.org. A 192.0.2.6`]);
      expect(await healthy("127.0.0.5")).toBe(false);
      expect(served.lines.some((l) => l["msg"] === "upstream failed max_fails times in a row: taken out and health-checked" && l["upstream"] === "127.0.0.5:53")).toBe(true);
      expect((await served.http("metrics")).body).toMatch(/^coredns_forward_healthcheck_failures_total\{to="127.0.0.5:53"\} \d+$/m);

      first = await LoopbackUpstream.start("127.0.0.5", { address: () => "192.0.2.5" });
      await eventually(() => healthy("127.0.0.5"), "the first upstream back in service");
      expect(await ask("back.example.org")).toEqual(["back.example.org. A 192.0.2.5"]);
    } finally {
      await served.kill();
      await Promise.all([first.close(), second.close()]);
    }
  });
});
