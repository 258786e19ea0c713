import { describe, expect, it } from "vitest";
import { normalizeName, parseName } from "./parse-name.ts";

const zone = "cluster.local";
const svc = { kind: "svc", zone, namespace: "", service: "", endpoint: "", port: "", protocol: "" };

describe("parseName", () => {
  it.each([
    ["nginx.default.svc.cluster.local", { ...svc, namespace: "default", service: "nginx" }],
    ["default.svc.cluster.local", { ...svc, namespace: "default" }],
    ["svc.cluster.local", svc],
    ["web-0.web.default.svc.cluster.local", { ...svc, namespace: "default", service: "web", endpoint: "web-0" }],
    [
      "_http._tcp.nginx.default.svc.cluster.local",
      { ...svc, namespace: "default", service: "nginx", port: "http", protocol: "tcp" },
    ],
    ["10-244-1-5.default.pod.cluster.local", { kind: "pod", zone, namespace: "default", pod: "10-244-1-5" }],
    ["default.pod.cluster.local", { kind: "pod", zone, namespace: "default", pod: "" }],
    ["pod.cluster.local", { kind: "pod", zone, namespace: "", pod: "" }],
    ["dns-version.cluster.local", { kind: "dns-version", zone }],
    ["ns.dns.cluster.local", { kind: "name-server", zone }],
    ["dns.cluster.local", { kind: "name-server-parent", zone }],
    ["cluster.local", { kind: "apex", zone }],
    ["10.0.96.10.in-addr.arpa", { kind: "reverse", zone: "in-addr.arpa", ip: "10.96.0.10" }],
    ["96.10.in-addr.arpa", { kind: "reverse", zone: "in-addr.arpa", ip: null }],
    [`1.${"0.".repeat(29)}d.f.ip6.arpa`, { kind: "reverse", zone: "ip6.arpa", ip: "fd00::1" }],
    ["ip6.arpa", { kind: "reverse", zone: "ip6.arpa", ip: null }],
    ["example.org", { kind: "outside" }],
    ["notcluster.local", { kind: "outside" }],
    ["", { kind: "outside" }],
  ])("%s", (name, expected) => {
    expect(parseName(name, zone)).toEqual(expected);
  });

  it("distinguishes bad shapes", () => {
    expect(parseName("foo.cluster.local", zone)).toEqual({ kind: "bad-shape", zone, reason: "unknown-kind" });
    expect(parseName("x.dns-version.cluster.local", zone)).toEqual({ kind: "bad-shape", zone, reason: "unknown-kind" });
    expect(parseName("x.dns.cluster.local", zone)).toEqual({ kind: "bad-shape", zone, reason: "unknown-kind" });
    expect(parseName("x.ns.dns.cluster.local", zone)).toEqual({ kind: "bad-shape", zone, reason: "unknown-kind" });
    expect(parseName("a.b.c.nginx.default.svc.cluster.local", zone)).toEqual({
      kind: "bad-shape",
      zone,
      reason: "too-many-labels",
    });
    expect(parseName("http.tcp.nginx.default.svc.cluster.local", zone)).toEqual({
      kind: "bad-shape",
      zone,
      reason: "not-port-protocol",
    });
    expect(parseName("x.10-0-0-1.default.pod.cluster.local", zone)).toEqual({
      kind: "bad-shape",
      zone,
      reason: "too-many-labels",
    });
  });

  it("matches names and zone case-insensitively, with or without the root dot", () => {
    expect(parseName("NGINX.Default.SVC.Cluster.Local.", "Cluster.Local")).toEqual({
      ...svc,
      namespace: "default",
      service: "nginx",
    });
  });

  it("reads a search-path miss as a deep, bad-shaped cluster name", () => {
    // nginx.default.svc.cluster.local tried with the "default.svc.cluster.local" search suffix.
    expect(parseName("nginx.default.svc.cluster.local.default.svc.cluster.local", zone)).toMatchObject({
      kind: "bad-shape",
    });
    // "nginx" tried with "svc.cluster.local": a namespace called nginx.
    expect(parseName("nginx.svc.cluster.local", zone)).toEqual({ ...svc, namespace: "nginx" });
  });

  it("follows another zone", () => {
    expect(parseName("a.b.svc.example.internal", "example.internal")).toEqual({
      ...svc,
      zone: "example.internal",
      namespace: "b",
      service: "a",
    });
    expect(parseName("a.b.svc.cluster.local", "example.internal")).toEqual({ kind: "outside" });
  });

  it("normalizes names to the store's spelling", () => {
    expect(normalizeName("Web.Default.SVC.cluster.local.")).toBe("web.default.svc.cluster.local");
    expect(normalizeName(".")).toBe("");
  });
});
