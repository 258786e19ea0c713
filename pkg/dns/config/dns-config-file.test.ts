import { describe, expect, it } from "vitest";
import { parseDnsConfigFile } from "./dns-config-file.ts";

const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const parse = (body: string) => parseDnsConfigFile(head + body, "/etc/signpost/dns.yaml");

describe("the --config file (DNSConfiguration)", () => {
  it("reads every field", () => {
    expect(
      parse(`
listen: "[::]:1053"
cluster: { zone: Example.Test., ttl: 30, pods: verified }
forward:
  - zone: .
    to: [/etc/resolv.conf]
  - zone: Example.Corp.
    to: [10.0.0.53, "10.0.0.54:5353", "[fd00::53]:53", "FD00::0054"]
cache: { forwardBytes: 8Mi, answerBytes: 0, servfailTTL: 30s }
log: { queries: true }
lameduck: 1m
`),
    ).toEqual({
      listen: { host: "::", port: 1053 },
      zone: "example.test",
      ttl: 30,
      pods: "verified",
      forward: [
        { zone: ".", to: [{ kind: "resolv-conf", path: "/etc/resolv.conf" }] },
        {
          zone: "example.corp",
          to: [
            { kind: "address", address: "10.0.0.53", port: 53 },
            { kind: "address", address: "10.0.0.54", port: 5353 },
            { kind: "address", address: "fd00::53", port: 53 },
            { kind: "address", address: "fd00::54", port: 53 },
          ],
        },
      ],
      forwardCacheBytes: 8 * 1024 * 1024,
      answerCacheBytes: 0,
      servfailTtlMs: 30_000,
      queryLog: true,
      lameduckMs: 60_000,
    });
  });

  it("reads a forward entry's policy and health checks", () => {
    expect(parse("forward:\n  - {zone: ., to: [10.0.0.1, 10.0.0.2], policy: round_robin, maxFails: 3, healthCheck: 1s}\n").forward).toEqual([
      {
        zone: ".",
        to: [
          { kind: "address", address: "10.0.0.1", port: 53 },
          { kind: "address", address: "10.0.0.2", port: 53 },
        ],
        policy: "round_robin",
        maxFails: 3,
        healthCheckMs: 1000,
      },
    ]);
  });

  it("takes an empty document body: every setting from the flags", () => {
    expect(parse("")).toEqual({});
  });

  it.each([
    ["an unknown top-level field", "zone: cluster.local\n", /SP_BAD_CONFIG: \/etc\/signpost\/dns.yaml: zone: is not a field of DNSConfiguration; known: apiVersion, kind, listen, cluster/],
    ["an unknown nested field", "cluster:\n  ttl: 5\n  pod: verified\n", /dns.yaml: cluster.pod: is not a field of DNSConfiguration cluster; known: zone, ttl, pods/],
    ["an unknown field of a forward entry", "forward:\n  - zone: .\n    to: [10.0.0.1]\n    polcy: random\n", /dns.yaml: forward\[0\].polcy: is not a field of a forward entry; known: zone, to, policy, maxFails, healthCheck/],
    ["an unknown policy", "forward:\n  - {zone: ., to: [10.0.0.1], policy: fastest}\n", /forward\[0\].policy: "fastest" is not one of sequential, random, round_robin/],
    ["a negative maxFails", "forward:\n  - {zone: ., to: [10.0.0.1], maxFails: -1}\n", /forward\[0\].maxFails: must be a whole number from 0/],
    ["a health check too frequent", "forward:\n  - {zone: ., to: [10.0.0.1], healthCheck: 1ms}\n", /forward\[0\].healthCheck: must be from 100ms to 1h/],
    ["a bad upstream, by its index", "forward:\n  - zone: .\n    to: [10.0.0.1, dns.example]\n", /dns.yaml: forward\[0\].to\[1\]: "dns.example" is not an upstream/],
    ["a zone given twice", "forward:\n  - {zone: a.test, to: [10.0.0.1]}\n  - {zone: A.test., to: [10.0.0.2]}\n", /forward\[1\].zone: "a.test" is also forward\[0\]/],
    ["an empty upstream list", "forward:\n  - {zone: a.test, to: []}\n", /forward\[0\].to: must be a list of at least one upstream/],
    ["a bad zone name", "forward:\n  - {zone: 'a..test', to: [10.0.0.1]}\n", /forward\[0\].zone: "a..test" is not a domain name/],
    ["a ttl out of range", "cluster: {ttl: 3601}\n", /cluster.ttl: must be a whole number of seconds from 0 to 3600/],
    ["a bad listen address", "listen: localhost:53\n", /dns.yaml: listen: "localhost" is not an IP address/],
    ["a bad cluster zone", "cluster: {zone: 10.in-addr.arpa}\n", /cluster.zone: "10.in-addr.arpa" is a reverse zone/],
    ["a bad duration", "lameduck: 5 seconds\n", /lameduck: "5 seconds" is not a duration/],
    ["a bad size", "cache: {forwardBytes: lots}\n", /cache.forwardBytes: "lots" is not a size/],
    ["a wrong type", "log: {queries: yes please}\n", /log.queries: must be true or false/],
    ["a section that is not a mapping", "cache: [1]\n", /dns.yaml: cache: must be a mapping/],
  ])("refuses %s, naming the file and the field", (_, body, message) => {
    expect(() => parse(body)).toThrow(message);
  });

  it("refuses another kind or version, and text that is not YAML", () => {
    expect(() => parseDnsConfigFile("apiVersion: v1\nkind: DNSConfiguration\n", "f")).toThrow(/f: apiVersion: must be signpost.dev\/v1alpha1, not "v1"/);
    expect(() => parseDnsConfigFile("apiVersion: signpost.dev/v1alpha1\nkind: ConfigMap\n", "f")).toThrow(/f: kind: must be DNSConfiguration/);
    expect(() => parseDnsConfigFile("a: [", "f")).toThrow(/SP_BAD_CONFIG: f: not YAML or JSON/);
    expect(() => parseDnsConfigFile("- 1\n", "f")).toThrow(/f: must be a DNSConfiguration mapping/);
  });
});
