// Forward zones as one forwarder sees them: a single list of upstreams (each once, so metrics
// and loop probes name it once) and, per zone, the order its upstreams are asked in for each
// query: as listed (sequential), shuffled (random) or rotated one step per query (round_robin),
// those taken out by health checks left out unless every one of them is.
// A name goes to its longest matching zone, as CoreDNS picks the most specific server block.
import { type Upstream, upstreamLabel } from "../forwarder.ts";
import { ConcurrentQueries, unboundedZone, type ZoneForwarding } from "../forward-transport.ts";
import type { ForwardPolicy, ResolvedForwardZone } from "./effective-config.ts";

export interface ForwardRoutes {
  readonly upstreams: readonly Upstream[];
  /** Per upstream, its zones' strictest health settings (the smallest max_fails above 0). */
  readonly maxFails: readonly number[];
  readonly healthCheckMs: readonly number[];
  /** The upstream indexes for `name` (lower-case, without the trailing dot), in the order to ask them. */
  readonly route: (name: string) => readonly number[];
  /** How `name`'s zone sends its queries (force_tcp, prefer_udp) and bounds them (max_concurrent). */
  readonly zoneOf: (name: string) => ZoneForwarding;
  /** Per upstream: how long its idle TCP connections are kept (the shortest expire of its zones). */
  readonly expireMs: readonly number[];
  /** Per upstream: every zone that names it forces TCP, so probes go over TCP too. */
  readonly probeOverTcp: readonly boolean[];
}

export interface RouteHealth {
  up(index: number): boolean;
  allDown(): void;
}

const ALWAYS_UP: RouteHealth = { up: () => true, allDown: () => {} };

interface ZoneRoute {
  readonly indexes: readonly number[];
  readonly policy: ForwardPolicy;
  readonly forwarding: ZoneForwarding;
  next: number;
}

export function forwardRoutes(zones: readonly ResolvedForwardZone[], health: RouteHealth = ALWAYS_UP, random: () => number = Math.random): ForwardRoutes {
  const upstreams: Upstream[] = [];
  const maxFails: number[] = [];
  const healthCheckMs: number[] = [];
  const expireMs: number[] = [];
  const probeOverTcp: boolean[] = [];
  const indexOf = new Map<string, number>();
  const byZone = new Map<string, ZoneRoute>();
  for (const zone of zones) {
    const indexes = zone.upstreams.map((u) => {
      const label = upstreamLabel(u);
      let index = indexOf.get(label);
      if (index === undefined) {
        index = upstreams.push(u) - 1;
        indexOf.set(label, index);
        maxFails.push(0);
        healthCheckMs.push(zone.healthCheckMs);
        expireMs.push(zone.expireMs);
        probeOverTcp.push(zone.forceTcp);
      }
      expireMs[index] = Math.min(expireMs[index] ?? zone.expireMs, zone.expireMs);
      probeOverTcp[index] = (probeOverTcp[index] ?? true) && zone.forceTcp;
      const current = maxFails[index] ?? 0;
      if (zone.maxFails > 0 && (current === 0 || zone.maxFails < current)) {
        maxFails[index] = zone.maxFails;
        healthCheckMs[index] = zone.healthCheckMs;
      }
      return index;
    });
    const forwarding = { transport: { forceTcp: zone.forceTcp, preferUdp: zone.preferUdp }, concurrent: new ConcurrentQueries(zone.maxConcurrent) };
    byZone.set(zone.zone === "." ? "" : zone.zone, { indexes, policy: zone.policy, forwarding, next: 0 });
  }
  const root: ZoneRoute = byZone.get("") ?? { indexes: [], policy: "sequential", forwarding: unboundedZone(), next: 0 };
  const checked = maxFails.some((n) => n > 0);

  const order = (zone: ZoneRoute): readonly number[] => {
    const { indexes } = zone;
    if (indexes.length < 2) return indexes;
    let ordered: readonly number[] = indexes;
    if (zone.policy === "random") {
      const copy = [...indexes];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [copy[i], copy[j]] = [copy[j] ?? 0, copy[i] ?? 0];
      }
      ordered = copy;
    } else if (zone.policy === "round_robin") {
      const start = zone.next;
      zone.next = (start + 1) % indexes.length;
      ordered = [...indexes.slice(start), ...indexes.slice(0, start)];
    }
    if (!checked) return ordered;
    const up = ordered.filter((i) => health.up(i));
    if (up.length > 0) return up.length === ordered.length ? ordered : up;
    health.allDown();
    return ordered;
  };

  const find = (name: string): ZoneRoute => {
    if (byZone.size === 1) return root;
    for (let suffix = name; suffix !== ""; ) {
      const hit = byZone.get(suffix);
      if (hit !== undefined) return hit;
      const dot = suffix.indexOf(".");
      suffix = dot < 0 ? "" : suffix.slice(dot + 1);
    }
    return root;
  };

  return { upstreams, maxFails, healthCheckMs, expireMs, probeOverTcp, route: (name) => order(find(name)), zoneOf: (name) => find(name).forwarding };
}
