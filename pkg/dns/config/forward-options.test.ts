import { describe, expect, it } from "vitest";
import { parseDnsConfigFile } from "./dns-config-file.ts";
import { describeForwardOptions, resolveForwardOptions } from "./forward-options.ts";

const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const parse = (body: string) => parseDnsConfigFile(head + body, "dns.yaml");

describe("forward entry options (force_tcp, prefer_udp, max_concurrent, expire)", () => {
  it("reads them on a forward entry", () => {
    const file = parse("forward:\n  - {zone: ., to: [10.0.0.10], forceTcp: true, maxConcurrent: 1000, expire: 30s}\n  - {zone: corp, to: [10.0.0.53], preferUdp: false}\n");
    expect(file.forward?.[0]).toMatchObject({ forceTcp: true, maxConcurrent: 1000, expireMs: 30_000 });
    expect(file.forward?.[1]).toMatchObject({ preferUdp: false });
  });

  it("fills in the defaults: UDP first, no bound, 10 s as CoreDNS's expire", () => {
    expect(resolveForwardOptions({})).toEqual({ forceTcp: false, preferUdp: true, maxConcurrent: 0, expireMs: 10_000 });
    expect(resolveForwardOptions({ forceTcp: true })).toMatchObject({ forceTcp: true, preferUdp: false });
    expect(describeForwardOptions(resolveForwardOptions({ maxConcurrent: 5 }))).toEqual({ maxConcurrent: 5 });
  });

  it("refuses a bad value naming its field", () => {
    expect(() => parse("forward:\n  - {zone: ., to: [10.0.0.10], forceTcp: yes please}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: forward[0].forceTcp: must be true or false");
    expect(() => parse("forward:\n  - {zone: ., to: [10.0.0.10], forceTcp: true, preferUdp: true}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: forward[0].preferUdp: contradicts forceTcp: true");
    expect(() => parse("forward:\n  - {zone: ., to: [10.0.0.10], maxConcurrent: -1}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: forward[0].maxConcurrent: must be a whole number from 0");
    expect(() => parse("forward:\n  - {zone: ., to: [10.0.0.10], expire: soon}\n")).toThrow('SP_BAD_CONFIG: dns.yaml: forward[0].expire: "soon" is not a duration');
    expect(() => parse("forward:\n  - {zone: ., to: [10.0.0.10], expire: 2h}\n")).toThrow("SP_BAD_CONFIG: dns.yaml: forward[0].expire: must be from 0s");
    expect(() => parse("forward:\n  - {zone: ., to: [10.0.0.10], force_tcp: true}\n")).toThrow(/forward\[0\]\.force_tcp: is not a field of a forward entry; known: .*forceTcp, preferUdp, maxConcurrent, expire/);
  });
});
