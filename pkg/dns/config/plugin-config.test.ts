import { describe, expect, it } from "vitest";
import { parseDnsConfigFile } from "./dns-config-file.ts";

const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const parse = (body: string) => parseDnsConfigFile(head + body, "dns.yaml");

describe("hosts, rewrite and loadbalance in the DNS configuration", () => {
  it("reads hosts with CoreDNS's defaults (every zone, ttl 3600, reverse names, no fallthrough, 5s reload)", () => {
    expect(parse("hosts:\n  entries: ['10.0.0.1 db.example.corp db']\n").hosts).toEqual({
      entries: ["10.0.0.1 db.example.corp db"],
      file: null,
      zones: ["."],
      ttl: 3600,
      reverse: true,
      fallthrough: [],
      reloadMs: 5000,
      maxFileBytes: 8 * 1024 * 1024,
    });
    expect(parse("hosts:\n  entries: ['10.0.0.9 *.apps.example.corp']\n").hosts?.entries).toEqual(["10.0.0.9 *.apps.example.corp"]);
    const h = parse("hosts:\n  file: /etc/hosts\n  zones: [example.corp]\n  ttl: 60\n  noReverse: true\n  fallthrough: true\n  reload: 1s\n  maxFileSize: 1Mi\n").hosts;
    expect(h).toMatchObject({ file: "/etc/hosts", zones: ["example.corp"], ttl: 60, reverse: false, fallthrough: ["example.corp"], reloadMs: 1000, maxFileBytes: 1048576 });
    expect(parse("hosts:\n  file: /etc/hosts\n  fallthrough: [in-addr.arpa]\n").hosts?.fallthrough).toEqual(["in-addr.arpa"]);
  });

  it("refuses bad hosts settings by their fields", () => {
    expect(() => parse("hosts:\n  entries: ['10.0.0.1 db', 'db.example.corp 10.0.0.1']\n")).toThrow('SP_BAD_CONFIG: dns.yaml: hosts.entries[1]: "db.example.corp" is not an IP address');
    expect(() => parse("hosts:\n  file: hosts.txt\n")).toThrow("dns.yaml: hosts.file: \"hosts.txt\" must be an absolute path");
    expect(() => parse("hosts: {ttl: 5}\n")).toThrow("dns.yaml: hosts: gives neither entries nor a file");
    expect(() => parse("hosts:\n  file: /h\n  maxFileSize: 1Gi\n")).toThrow("hosts.maxFileSize: must be from 1 byte to 64Mi");
    expect(() => parse("hosts:\n  file: /h\n  no_reverse: true\n")).toThrow("hosts.no_reverse: is not a field of hosts");
  });

  it("reads rewrite rules and loadbalance, refusing a bad regex by its field", () => {
    const c = parse("rewrite:\n  - {from: a.example, to: b.example}\n  - {match: regex, from: '^(.*)\\.x\\.$', to: '{1}.y', continue: true}\nloadbalance: round_robin\n");
    expect(c.rewrite?.map((r) => [r.match, r.from, r.to, r.continue])).toEqual([
      ["exact", "a.example.", "b.example.", false],
      ["regex", "^(.*)\\.x\\.$", "{1}.y", true],
    ]);
    expect(c.loadbalance).toBe(true);
    expect(() => parse("rewrite:\n  - {match: regex, from: '(a', to: b}\n")).toThrow(/^SP_BAD_CONFIG: dns\.yaml: rewrite\[0\]\.from: "\(a" is not a regular expression/);
    expect(() => parse("loadbalance: weighted\n")).toThrow('dns.yaml: loadbalance: "weighted" is not a policy signpost-dns has; give round_robin');
  });
});
