// A small harness for renderer tests: model objects in, node-local state, restore text and
// traces out, on a test node with the addresses kube-proxy's own tests use.

import { slicesByService } from "../../model/key.ts";
import type { EndpointSlice, IPFamily, Protocol, Service } from "../../model/types.ts";
import { canonicalIP } from "../../model/ip.ts";
import type { ProxyState } from "../proxy-state.ts";
import { buildProxyState } from "../proxy-state.ts";
import type { TracePacket, TraceResult } from "../iptables/packet-tracer.ts";
import { traceRestore } from "../iptables/packet-tracer.ts";
import type { RenderConfig } from "../iptables/render-config.ts";
import { defaultRenderConfig, detectLocalByCIDR } from "../iptables/render-config.ts";
import type { RenderRequest, RenderResult } from "../iptables/render.ts";
import { renderIptables } from "../iptables/render.ts";

export const testNodeName = "node1";
export const testNodeIP = "192.168.0.2";
export const testNodeIPv6 = "2001:db8::2";
export const testClusterCIDR = "10.0.0.0/8";
export const testExternalClient = "203.0.113.2";
export const testZone = "zone-a";

export function stateOf(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  options: { family?: IPFamily; zone?: string } = {},
): ProxyState {
  const family = options.family ?? "IPv4";
  const byService = slicesByService(slices);
  return buildProxyState(services, (key) => byService.get(key) ?? [], { family, node: { name: testNodeName, zone: options.zone ?? testZone } });
}

export function testConfig(overrides: Partial<RenderConfig> = {}): RenderConfig {
  const family = overrides.family ?? "IPv4";
  return {
    ...defaultRenderConfig(family),
    localDetector: detectLocalByCIDR(family === "IPv4" ? testClusterCIDR : "fd00:10::/64"),
    nodeIPs: family === "IPv4" ? [testNodeIP] : [testNodeIPv6],
    ...overrides,
  };
}

export function renderAll(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  config: Partial<RenderConfig> = {},
  request: Partial<RenderRequest> = {},
): RenderResult {
  const cfg = testConfig(config);
  return renderIptables({ state: stateOf(services, slices, { family: cfg.family }), config: cfg, changed: null, ...request });
}

export interface Probe {
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol?: Protocol;
  readonly recent?: TracePacket["recent"];
  readonly origin?: TracePacket["origin"];
  readonly inInterface?: string;
}

/** Traces a packet through restore text on a node whose local addresses are given. */
export function probe(text: string, p: Probe, localAddresses: readonly string[] = [testNodeIP, "127.0.0.1"]): TraceResult {
  const local = new Set(localAddresses.map((a) => canonicalIP(a) ?? a));
  return traceRestore(text, {
    src: p.src,
    dst: p.dst,
    dport: p.port,
    protocol: p.protocol ?? "TCP",
    isLocalAddress: (ip) => local.has(canonicalIP(ip) ?? ip),
    ...(p.recent === undefined ? {} : { recent: p.recent }),
    ...(p.origin === undefined ? {} : { origin: p.origin }),
    ...(p.inInterface === undefined ? {} : { inInterface: p.inInterface }),
  });
}
