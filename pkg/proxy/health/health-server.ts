// /healthz and /livez on the healthz address (10256), answering as kube-proxy does: 200 or 503
// with {"lastUpdated": ..., "currentTime": ...} (and "nodeEligible" on /healthz); a healthy
// answer reports the current time as lastUpdated, for compatibility with old kube-proxy.
import type { ServerResponse } from "node:http";
import { type Handler, routed } from "../../http/side-server.ts";
import type { HealthStatus, ProxyHealth } from "./proxy-health.ts";
import { goTimeString } from "./proxy-health.ts";

export interface HealthHandlerDeps {
  readonly health: ProxyHealth;
  /** False when the node is being deleted: /healthz fails so load balancers drain it. */
  readonly nodeEligible: () => boolean;
  readonly count: (kind: "healthz" | "livez", code: number) => void;
}

function times(status: HealthStatus, healthy: boolean): { lastUpdated: string; currentTime: string } {
  return {
    lastUpdated: goTimeString(healthy ? status.now : status.lastUpdated),
    currentTime: goTimeString(status.now),
  };
}

export function healthHandler(deps: HealthHandlerDeps): Handler {
  return routed({ "/healthz": (_req, res) => answer(deps, "/healthz", res), "/livez": (_req, res) => answer(deps, "/livez", res) });
}

function answer(deps: HealthHandlerDeps, path: "/healthz" | "/livez", res: ServerResponse): void {
  const status = deps.health.status();
  const eligible = deps.nodeEligible();
  const healthy = path === "/healthz" ? status.healthy && eligible : status.healthy;
  const code = healthy ? 200 : 503;
  deps.count(path === "/healthz" ? "healthz" : "livez", code);
  const t = times(status, healthy);
  const body =
    path === "/healthz"
      ? `{"lastUpdated": ${JSON.stringify(t.lastUpdated)},"currentTime": ${JSON.stringify(t.currentTime)}, "nodeEligible": ${String(eligible)}}`
      : `{"lastUpdated": ${JSON.stringify(t.lastUpdated)},"currentTime": ${JSON.stringify(t.currentTime)}}`;
  res.writeHead(code, { "content-type": "application/json", "x-content-type-options": "nosniff" }).end(body);
}
