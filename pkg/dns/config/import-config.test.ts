import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCorefile } from "./corefile.ts";
import { parseDnsConfigFile } from "./dns-config-file.ts";
import { importCorefile, importKubeDnsConfigMap, renderImport } from "./import-config.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");
const notes = (r: ReturnType<typeof importCorefile>) => r.notes.map((n) => `${n.where}: ${n.what}`);

describe("signpost-dns import --corefile", () => {
  it("converts the Corefile kubeadm v1.36 writes whole: max_concurrent, cache 30, loadbalance", () => {
    const r = importCorefile(fixture("kubeadm-v1.36.Corefile"), "Corefile");
    expect(r.config).toEqual({
      apiVersion: "signpost.dev/v1alpha1",
      kind: "DNSConfiguration",
      cluster: { zone: "cluster.local", pods: "insecure", ttl: 30 },
      forward: [{ zone: ".", to: ["/etc/resolv.conf"], policy: "random", maxFails: 2, healthCheck: "500ms", preferUdp: false, maxConcurrent: 1000 }],
      // CoreDNS's `cache 30`: successes and denials up to 30 s, at least 5 s.
      cache: { success: { maxTTL: "30s", minTTL: "5s" }, denial: { maxTTL: "30s", minTTL: "5s" } },
      loadbalance: "round_robin",
      lameduck: "5s",
    });
    expect(notes(r)).toEqual([]);
  });

  it("converts a homelab Corefile: forward zones in the root block, an IPv6 upstream, hosts with its options; import named", () => {
    const r = importCorefile(fixture("homelab-nas01.Corefile"), "Corefile");
    const coreDnsDefaults = { policy: "random", maxFails: 2, healthCheck: "500ms", preferUdp: false };
    expect(r.config["forward"]).toEqual([
      { zone: "nas01.home.macro.network", to: ["10.133.0.11"], ...coreDnsDefaults },
      { zone: "home.macro.network", to: ["10.10.30.1"], ...coreDnsDefaults },
      { zone: ".", to: ["10.10.0.1", "[2603:6010:5300:ad0a::1]:53"], ...coreDnsDefaults },
    ]);
    expect(r.config["hosts"]).toEqual({ file: "/etc/coredns/NodeHosts", ttl: 60, reload: "15s", fallthrough: true });
    expect(r.config["loadbalance"]).toBe("round_robin");
    expect(notes(r)).toEqual(["Corefile:23: import /etc/coredns/custom/*.server"]);
  });

  it("converts a stub-domain server block with its policy and health_check options", () => {
    const r = importCorefile(fixture("killsh-stub-policy.Corefile"), "Corefile");
    expect(r.config["forward"]).toEqual([
      { zone: ".", to: ["/etc/resolv.conf"], policy: "random", maxFails: 2, healthCheck: "500ms", preferUdp: false },
      { zone: "ohkillsh.win", to: ["10.15.0.4", "10.15.0.5"], policy: "random", maxFails: 2, healthCheck: "5s", preferUdp: false },
    ]);
    expect(r.config["loadbalance"]).toBe("round_robin");
    // The stub block's `cache 30` is the root block's: nothing to name.
    expect(notes(r)).toEqual([]);
  });

  it("converts kops's autopath Corefile: autopath @kubernetes with pods verified; a stub block's log and the old proxy named", () => {
    const r = importCorefile(fixture("kops-autopath.Corefile"), "Corefile");
    expect(r.config).toEqual({
      apiVersion: "signpost.dev/v1alpha1",
      kind: "DNSConfiguration",
      // No in-addr.arpa in its kubernetes zones: CoreDNS serves no reverse zone there.
      cluster: { zone: "cluster.local", reverseCIDRs: [], pods: "verified", autopath: true },
      cache: { success: { maxTTL: "5m", minTTL: "5s" }, denial: { maxTTL: "5m", minTTL: "5s" } },
    });
    expect(notes(r)).toEqual([
      "Corefile:18: kubernetes option upstream 169.254.169.253",
      "Corefile:3: log .",
      "Corefile:6: health :8084",
      "Corefile:7: prometheus :9153",
      "Corefile:8: proxy . 169.254.169.253",
      "Corefile:14: health :8080",
      "Corefile:22: proxy . 169.254.169.253",
      "Corefile:10: cache 30",
    ]);
  });

  it("converts log classes and errors consolidation, naming what has no equivalent", () => {
    const r = importCorefile(
      [
        ".:53 {",
        "  errors {",
        "    consolidate 5m \".* i/o timeout$\" warning",
        "    consolidate 30s ^.*NXDOMAIN.*$",
        "    consolidate 10ms x",
        "    stacktrace",
        "  }",
        "  log . {",
        "    class denial error",
        "  }",
        "  kubernetes cluster.local",
        "  autopath @kubernetes",
        "  forward . 10.0.0.1",
        "}",
      ].join("\n"),
      "Corefile",
    );
    expect(r.config["log"]).toEqual({
      queries: true,
      classes: ["denial", "error"],
      errors: { consolidate: [{ period: "5m", pattern: ".* i/o timeout$", level: "warning" }, { period: "30s", pattern: "^.*NXDOMAIN.*$" }] },
    });
    expect(r.config["cluster"]).toEqual({ zone: "cluster.local", reverseCIDRs: [] });
    expect(notes(r)).toEqual(["Corefile:5: errors option consolidate 10ms x", "Corefile:6: errors option stacktrace", "Corefile:12: autopath @kubernetes"]);
    expect(r.notes[2]?.reason).toContain("needs the kubernetes plugin's `pods verified` (here disabled, the default)");
    expect(() => parseDnsConfigFile(renderImport(r, "Corefile"), "out")).not.toThrow();
    expect(importCorefile(".:53 {\n  log {\n    class all\n  }\n  log example.org {combined}\n}\n", "C").config["log"]).toEqual({ queries: true });
  });

  it("prints a file that signpost-dns reads back, with what was not converted in its header", () => {
    for (const name of ["kubeadm-v1.36.Corefile", "homelab-nas01.Corefile", "killsh-stub-policy.Corefile", "nodelocaldns-v1.36.Corefile", "deckhouse-node-local-dns.Corefile", "kops-autopath.Corefile"]) {
      const text = renderImport(importCorefile(fixture(name), name), name);
      expect(() => parseDnsConfigFile(text, name)).not.toThrow();
    }
    const text = renderImport(importCorefile(fixture("homelab-nas01.Corefile"), "Corefile"), "Corefile");
    expect(text).toContain("# Not converted:\n#   Corefile:23: import /etc/coredns/custom/*.server: is outside any server block (an import or snippet); not converted: convert the file it names on its own\n");
  });

  it("converts a port other than 53, log, and names DNS over TLS and a stub inside the cluster zone", () => {
    const r = importCorefile(
      [".:1053 {", "  kubernetes k8s.test", "  log", "  forward . tls://9.9.9.9 10.0.0.1", "}", "svc.k8s.test:1053 {", "  forward . 10.0.0.2", "}", "tls://corp.test {", "  forward . 10.0.0.3", "}"].join("\n"),
      "Corefile",
    );
    expect(r.config).toMatchObject({ listen: "0.0.0.0:1053", cluster: { zone: "k8s.test", reverseCIDRs: [] }, log: { queries: true }, forward: [{ zone: ".", to: ["10.0.0.1"] }] });
    expect(importCorefile(".:53 {\n  forward . 10.0.0.1 {\n    policy round_robin\n    max_fails 0\n  }\n}\n", "C").config["forward"]).toEqual([
      { zone: ".", to: ["10.0.0.1"], policy: "round_robin", maxFails: 0, healthCheck: "500ms", preferUdp: false },
    ]);
    expect(notes(r)).toEqual(["Corefile:4: forward ... tls://9.9.9.9", "Corefile:7: forward . 10.0.0.2", "Corefile:9: tls://corp.test"]);
  });
});

describe("signpost-dns import: forward transport and cache options", () => {
  it("converts NodeLocal DNSCache's Corefile: force_tcp stub blocks; a stub block's own cache is named", () => {
    const r = importCorefile(fixture("nodelocaldns-v1.36.Corefile"), "Corefile");
    const stub = { to: ["10.96.0.11"], policy: "random", maxFails: 2, healthCheck: "500ms", forceTcp: true };
    expect(r.config["forward"]).toEqual([
      { zone: "cluster.local", ...stub },
      { zone: "in-addr.arpa", ...stub },
      { zone: "ip6.arpa", ...stub },
      { zone: ".", to: ["/etc/resolv.conf"], policy: "random", maxFails: 2, healthCheck: "500ms", preferUdp: false },
    ]);
    expect(r.config["cache"]).toEqual({ success: { maxTTL: "30s", minTTL: "5s" }, denial: { maxTTL: "30s", minTTL: "5s" } });
    expect(r.notes.at(-1)).toEqual({ where: "Corefile:3", what: "cache", reason: "signpost-dns has one cache for every forwarded zone, set by the root block's cache" });
  });

  it("converts deckhouse's node-local-dns cache: capacities, prefetch with its percentage, serve_stale", () => {
    const r = importCorefile(fixture("deckhouse-node-local-dns.Corefile"), "Corefile");
    expect(r.config["cache"]).toEqual({
      success: { capacity: 39936, maxTTL: "1h", minTTL: "5s" },
      denial: { capacity: 9984, maxTTL: "30m", minTTL: "5s" },
      prefetch: { amount: 10, duration: "1m", percentage: 25 },
      serveStale: { duration: "12h", refreshMode: "immediate" },
    });
    expect(r.config["forward"]).toEqual([{ zone: ".", to: ["10.222.0.10"], policy: "random", maxFails: 0, healthCheck: "500ms", preferUdp: false }]);
    expect(notes(r)).toEqual(["Corefile:12: reload 2s", "Corefile:14: bind 10.222.0.10 169.254.20.10", "Corefile:18: prometheus 127.0.0.1:9254", "Corefile:19: health 127.0.0.1:9225"]);
  });

  it("converts every forward transport option and cache option, naming what does not fit", () => {
    const r = importCorefile(
      [
        ".:53 {",
        "  forward . 10.0.0.1 {",
        "    prefer_udp",
        "    expire 30s",
        "    max_concurrent many",
        "  }",
        "  cache 300 example.org {",
        "    success 5000 600 10",
        "    denial 2000",
        "    prefetch 2 30s 95%",
        "    serve_stale 1h verify",
        "    servfail 10s",
        "    keepttl",
        "    disable denial example.org",
        "  }",
        "}",
      ].join("\n"),
      "Corefile",
    );
    expect(r.config["forward"]).toEqual([{ zone: ".", to: ["10.0.0.1"], policy: "random", maxFails: 2, healthCheck: "500ms", preferUdp: true, expire: "30s" }]);
    expect(r.config["cache"]).toEqual({
      success: { capacity: 5000, maxTTL: "10m", minTTL: "10s" },
      denial: { capacity: 2000, maxTTL: "5m", minTTL: "5s" },
      serveStale: { duration: "1h", refreshMode: "verify" },
      servfailTTL: "10s",
    });
    expect(notes(r)).toEqual([
      "Corefile:5: forward option max_concurrent many",
      "Corefile:7: cache 300 example.org",
      "Corefile:10: cache option prefetch 2 30s 95%",
      "Corefile:13: cache option keepttl",
      "Corefile:14: cache option disable denial example.org",
    ]);
    expect(() => parseDnsConfigFile(renderImport(r, "Corefile"), "out")).not.toThrow();
    expect(importCorefile(".:53 {\n  forward . 10.0.0.1 {\n    prefer_udp\n    force_tcp\n  }\n}\n", "C").config["forward"]).toEqual([
      { zone: ".", to: ["10.0.0.1"], policy: "random", maxFails: 2, healthCheck: "500ms", forceTcp: true },
    ]);
  });
});

describe("signpost-dns import --corefile: hosts, rewrite, loadbalance and the kubernetes options", () => {
  const corefile = [
    ".:53 {", // 1
    "  kubernetes cluster.local 96.10.in-addr.arpa 244.10.in-addr.arpa {",
    "    namespaces default kube-system",
    "    endpoint_pod_names",
    "    noendpoints",
    "    fallthrough 96.10.in-addr.arpa",
    "  }",
    "  hosts /etc/coredns/hosts example.corp {", // 8
    "    10.0.0.1 db.example.corp db",
    "    no_reverse",
    "    fallthrough_unsupported",
    "  }",
    "  rewrite name db.example.corp db.default.svc.cluster.local", // 13
    "  rewrite continue name suffix .corp. .svc.cluster.local. answer auto",
    "  rewrite stop {",
    "    name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul",
    "    answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.example.org",
    "  }",
    "  rewrite type ANY HINFO", // 19
    "  rewrite name exact a.example b.example answer value x y",
    "  loadbalance weighted /etc/weights",
    "  forward . 10.0.0.53",
    "}",
  ].join("\n");

  it("converts each to its field and names what has no equivalent by its line", () => {
    const r = importCorefile(corefile, "Corefile");
    expect(r.config["cluster"]).toEqual({
      zone: "cluster.local",
      reverseCIDRs: ["10.96.0.0/16", "10.244.0.0/16"],
      namespaces: ["default", "kube-system"],
      endpointPodNames: true,
      noEndpoints: true,
      fallthrough: ["96.10.in-addr.arpa"],
    });
    expect(r.config["hosts"]).toEqual({ file: "/etc/coredns/hosts", zones: ["example.corp"], noReverse: true, entries: ["10.0.0.1 db.example.corp db"] });
    expect(r.config["rewrite"]).toEqual([
      { from: "db.example.corp", to: "db.default.svc.cluster.local" },
      { match: "suffix", from: ".corp.", to: ".svc.cluster.local.", continue: true },
      { match: "regex", from: "(.*)-(us-west-1)\\.example\\.org", to: "{1}.service.{2}.consul", answer: { from: "(.*)\\.service\\.(us-west-1)\\.consul", to: "{1}-{2}.example.org" } },
      { from: "a.example", to: "b.example" },
    ]);
    expect(r.config["loadbalance"]).toBeUndefined();
    expect(notes(r)).toEqual([
      "Corefile:11: hosts option fallthrough_unsupported",
      "Corefile:19: rewrite type ANY HINFO",
      "Corefile:20: rewrite name exact a.example b.example answer value x y: answer value x y",
      "Corefile:21: loadbalance weighted /etc/weights",
    ]);
    expect(() => parseDnsConfigFile(renderImport(r, "Corefile"), "out")).not.toThrow();
  });

  it("turns reverse fallthrough off when the kubernetes block has none, as CoreDNS answers NXDOMAIN then", () => {
    const r = importCorefile(".:53 {\n  kubernetes cluster.local in-addr.arpa ip6.arpa\n  forward . 10.0.0.53\n}\n", "C");
    expect(r.config["cluster"]).toEqual({ zone: "cluster.local", fallthrough: false });
  });
});

describe("signpost-dns import --kube-dns-configmap", () => {
  it("converts stubDomains and upstreamNameservers, naming federations and a stub inside the cluster zone", () => {
    const r = importKubeDnsConfigMap(fixture("kube-dns-configmap.yaml"), "cm.yaml");
    expect(r.config["forward"]).toEqual([
      { zone: "abc.com", to: ["1.2.3.4"] },
      { zone: ".", to: ["8.8.8.8", "8.8.4.4"] },
    ]);
    expect(notes(r)).toEqual(["cm.yaml: data.federations: federations", "cm.yaml: data.stubDomains.my.cluster.local: my.cluster.local"]);
    expect(() => parseDnsConfigFile(renderImport(r, "cm.yaml"), "out")).not.toThrow();
  });

  it("refuses data that is not JSON, naming the key", () => {
    expect(() => importKubeDnsConfigMap("data:\n  stubDomains: '{nope'\n", "cm.yaml")).toThrow(/SP_BAD_CONFIG: cm.yaml: data.stubDomains: is not JSON/);
  });
});

describe("the Corefile reader", () => {
  it("reads keys, directives, options and their lines; comments and quotes", () => {
    expect(parseCorefile('# top\nexample.org:53 {\n  forward . 10.0.0.1 { # why\n    policy "round_robin"\n  }\n}\n', "C")).toEqual([
      { keys: ["example.org:53"], line: 2, directives: [{ name: "forward", args: [".", "10.0.0.1"], line: 3, options: [{ name: "policy", args: ["round_robin"], line: 4, options: [] }] }] },
    ]);
  });

  it("names an unclosed block and a stray }", () => {
    expect(() => parseCorefile(".:53 {\n  errors\n", "C")).toThrow(/SP_BAD_CONFIG: C:1: this block is not closed/);
    expect(() => parseCorefile("}\n", "C")).toThrow(/SP_BAD_CONFIG: C:1: a } closes nothing/);
  });
});
