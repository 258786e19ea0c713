// Forward zones as one forwarder sees them: a single list of upstreams (each once, so metrics
// and loop probes name it once) and, per zone, the indexes of its upstreams. A name goes to its
// longest matching zone, as CoreDNS picks the most specific server block; "." matches all.
import { type Upstream, upstreamLabel } from "../forwarder.ts";
import type { ResolvedForwardZone } from "./effective-config.ts";

export interface ForwardRoutes {
  readonly upstreams: readonly Upstream[];
  /** The upstream indexes for `name` (lower-case, without the trailing dot), in order. */
  readonly route: (name: string) => readonly number[];
}

export function forwardRoutes(zones: readonly ResolvedForwardZone[]): ForwardRoutes {
  const upstreams: Upstream[] = [];
  const indexOf = new Map<string, number>();
  const byZone = new Map<string, readonly number[]>();
  for (const zone of zones) {
    const indexes = zone.upstreams.map((u) => {
      const label = upstreamLabel(u);
      let index = indexOf.get(label);
      if (index === undefined) {
        index = upstreams.push(u) - 1;
        indexOf.set(label, index);
      }
      return index;
    });
    byZone.set(zone.zone === "." ? "" : zone.zone, indexes);
  }
  const root = byZone.get("") ?? [];
  // Only the root: no name to split, which is every query of a cluster without stub domains.
  if (byZone.size === 1) return { upstreams, route: () => root };
  return {
    upstreams,
    route: (name) => {
      for (let suffix = name; suffix !== ""; ) {
        const hit = byZone.get(suffix);
        if (hit !== undefined) return hit;
        const dot = suffix.indexOf(".");
        suffix = dot < 0 ? "" : suffix.slice(dot + 1);
      }
      return root;
    },
  };
}
