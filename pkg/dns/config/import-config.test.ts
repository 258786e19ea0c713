import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCorefile } from "./corefile.ts";
import { parseDnsConfigFile } from "./dns-config-file.ts";
import { importCorefile, importKubeDnsConfigMap, renderImport } from "./import-config.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");
const notes = (r: ReturnType<typeof importCorefile>) => r.notes.map((n) => `${n.where}: ${n.what}`);

describe("signpost-dns import --corefile", () => {
  it("converts the Corefile kubeadm v1.36 writes, naming max_concurrent and loadbalance by their lines", () => {
    const r = importCorefile(fixture("kubeadm-v1.36.Corefile"), "Corefile");
    expect(r.config).toEqual({
      apiVersion: "signpost.dev/v1alpha1",
      kind: "DNSConfiguration",
      cluster: { zone: "cluster.local", pods: "insecure", ttl: 30 },
      forward: [{ zone: ".", to: ["/etc/resolv.conf"], policy: "random", maxFails: 2, healthCheck: "500ms" }],
      lameduck: "5s",
    });
    expect(notes(r)).toEqual(["Corefile:14: forward option max_concurrent 1000", "Corefile:22: loadbalance"]);
  });

  it("converts a homelab Corefile: forward zones in the root block, an IPv6 upstream; hosts and import named", () => {
    const r = importCorefile(fixture("homelab-nas01.Corefile"), "Corefile");
    const coreDnsDefaults = { policy: "random", maxFails: 2, healthCheck: "500ms" };
    expect(r.config["forward"]).toEqual([
      { zone: "nas01.home.macro.network", to: ["10.133.0.11"], ...coreDnsDefaults },
      { zone: "home.macro.network", to: ["10.10.30.1"], ...coreDnsDefaults },
      { zone: ".", to: ["10.10.0.1", "[2603:6010:5300:ad0a::1]:53"], ...coreDnsDefaults },
    ]);
    expect(notes(r)).toEqual(["Corefile:9: hosts /etc/coredns/NodeHosts", "Corefile:21: loadbalance", "Corefile:23: import /etc/coredns/custom/*.server"]);
  });

  it("converts a stub-domain server block with its policy and health_check options", () => {
    const r = importCorefile(fixture("killsh-stub-policy.Corefile"), "Corefile");
    expect(r.config["forward"]).toEqual([
      { zone: ".", to: ["/etc/resolv.conf"], policy: "random", maxFails: 2, healthCheck: "500ms" },
      { zone: "ohkillsh.win", to: ["10.15.0.4", "10.15.0.5"], policy: "random", maxFails: 2, healthCheck: "5s" },
    ]);
    expect(notes(r)).toEqual(["Corefile:13: loadbalance"]);
  });

  it("converts kops's autopath Corefile: autopath @kubernetes with pods verified; a stub block's log and the old proxy named", () => {
    const r = importCorefile(fixture("kops-autopath.Corefile"), "Corefile");
    expect(r.config).toEqual({
      apiVersion: "signpost.dev/v1alpha1",
      kind: "DNSConfiguration",
      cluster: { zone: "cluster.local", pods: "verified", autopath: true },
    });
    expect(notes(r)).toEqual([
      "Corefile:18: kubernetes option upstream 169.254.169.253",
      "Corefile:3: log .",
      "Corefile:6: health :8084",
      "Corefile:7: prometheus :9153",
      "Corefile:8: proxy . 169.254.169.253",
      "Corefile:14: health :8080",
      "Corefile:22: proxy . 169.254.169.253",
      "Corefile:23: cache 300",
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
    expect(r.config["cluster"]).toEqual({ zone: "cluster.local" });
    expect(notes(r)).toEqual(["Corefile:5: errors option consolidate 10ms x", "Corefile:6: errors option stacktrace", "Corefile:12: autopath @kubernetes"]);
    expect(r.notes[2]?.reason).toContain("needs the kubernetes plugin's `pods verified` (here disabled, the default)");
    expect(() => parseDnsConfigFile(renderImport(r, "Corefile"), "out")).not.toThrow();
    expect(importCorefile(".:53 {\n  log {\n    class all\n  }\n  log example.org {combined}\n}\n", "C").config["log"]).toEqual({ queries: true });
  });

  it("prints a file that signpost-dns reads back, with what was not converted in its header", () => {
    for (const name of ["kubeadm-v1.36.Corefile", "homelab-nas01.Corefile", "killsh-stub-policy.Corefile", "kops-autopath.Corefile"]) {
      const text = renderImport(importCorefile(fixture(name), name), name);
      expect(() => parseDnsConfigFile(text, name)).not.toThrow();
    }
    const text = renderImport(importCorefile(fixture("kubeadm-v1.36.Corefile"), "Corefile"), "Corefile");
    expect(text).toContain("#   Corefile:22: loadbalance: the loadbalance plugin has no equivalent in signpost-dns\n");
  });

  it("converts a port other than 53, log, and names DNS over TLS and a stub inside the cluster zone", () => {
    const r = importCorefile(
      [".:1053 {", "  kubernetes k8s.test", "  log", "  forward . tls://9.9.9.9 10.0.0.1", "}", "svc.k8s.test:1053 {", "  forward . 10.0.0.2", "}", "tls://corp.test {", "  forward . 10.0.0.3", "}"].join("\n"),
      "Corefile",
    );
    expect(r.config).toMatchObject({ listen: "0.0.0.0:1053", cluster: { zone: "k8s.test" }, log: { queries: true }, forward: [{ zone: ".", to: ["10.0.0.1"] }] });
    expect(importCorefile(".:53 {\n  forward . 10.0.0.1 {\n    policy round_robin\n    max_fails 0\n  }\n}\n", "C").config["forward"]).toEqual([
      { zone: ".", to: ["10.0.0.1"], policy: "round_robin", maxFails: 0, healthCheck: "500ms" },
    ]);
    expect(notes(r)).toEqual(["Corefile:4: forward ... tls://9.9.9.9", "Corefile:7: forward . 10.0.0.2", "Corefile:9: tls://corp.test"]);
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
