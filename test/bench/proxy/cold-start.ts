// Cold start: from the moment the daemon's process is started to the moment the kernel holds the
// full rule set, every Service's ClusterIP and every endpoint. A probe Service, made before the
// start and pointing at the echo backend, is connected to from the client pod every 2 ms: a
// proxy's first sync writes every Service in one transaction, so the first connection through it
// is the moment the rule set landed, to within the gap between the last failed attempt and the
// one that worked (the resolution, a few milliseconds, reported). The whole NAT table is read
// right after to confirm it holds every address; if it does not (a proxy that programs in
// parts), the Service list is polled until it does, and that sample's resolution is the poll's.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { BACKEND_POD_IP, type BenchNode } from "./bench-node.ts";
import type { ClusterObjects } from "./cluster-objects.ts";
import type { Contestant, RunningDaemon } from "./contestants.ts";
import { startDaemon } from "./contestants.ts";
import { missing, natAddresses, serviceAddresses } from "./kernel-rules.ts";
import { log } from "./sampling.ts";

export interface ColdStart {
  readonly daemon: RunningDaemon;
  readonly command: string;
  /** Seconds from process start to the full rule set, or null with the reason. */
  readonly seconds: number | null;
  readonly failure?: string;
  /** How finely the sample is known, in seconds. */
  readonly resolutionSeconds: number;
  /** "probe" or "poll": which clock gave the sample. */
  readonly how: string;
  /** The probe Service's ClusterIP: one Service among the scale set, reaching the echo backend. */
  readonly probeClusterIP: string;
}

/** A timed start as the log shows it: its seconds, which clock gave them, and how finely. */
export function describeStart(seconds: number, start: Pick<ColdStart, "how" | "resolutionSeconds">): string {
  return `${seconds.toFixed(2)} s (${start.how}, resolution ${(start.resolutionSeconds * 1000).toFixed(1)} ms)`;
}

const POLL_GAP_MS = 50;
const wallNow = (): number => performance.timeOrigin + performance.now();

export async function coldStart(contestant: Contestant, node: BenchNode, kubeconfig: string, objects: ClusterObjects, timeoutMs: number): Promise<ColdStart> {
  const { clusterIPs, endpoints } = objects.expectedAddresses();
  const probe = await objects.createProbeService(BACKEND_POD_IP);
  const started = wallNow();
  const { daemon, command } = await startDaemon(contestant, node, kubeconfig);
  const first = await node.firstConnection(probe.clusterIP, 80, timeoutMs);
  if (daemon.exited) return { probeClusterIP: probe.clusterIP, daemon, command, seconds: null, resolutionSeconds: 0, how: "probe", failure: `${contestant.name} ${daemon.exitDescription()}: ${daemon.tail()}` };
  if (first.okAtMs !== undefined) {
    const all = await natAddresses(node, contestant.backend);
    if (missing(all, clusterIPs) === 0 && missing(all, endpoints) === 0) {
      const before = first.lastFailedAtMs ?? started;
      return { probeClusterIP: probe.clusterIP, daemon, command, seconds: (first.okAtMs - started) / 1000, resolutionSeconds: (first.okAtMs - before) / 1000, how: "probe" };
    }
    log(`${contestant.name}: the probe connected before the full rule set was in; polling`);
  }
  let resolutionSeconds = 0;
  let lastMissing = clusterIPs.length;
  while (wallNow() - started < timeoutMs) {
    if (daemon.exited) return { probeClusterIP: probe.clusterIP, daemon, command, seconds: null, resolutionSeconds, how: "poll", failure: `${contestant.name} ${daemon.exitDescription()}: ${daemon.tail()}` };
    const pollStart = wallNow();
    const services = await serviceAddresses(node, contestant.backend);
    const pollEnd = wallNow();
    resolutionSeconds = Math.max(resolutionSeconds, (pollEnd - pollStart + POLL_GAP_MS) / 1000);
    lastMissing = missing(services, clusterIPs);
    if (lastMissing === 0) {
      const all = await natAddresses(node, contestant.backend);
      const absentEndpoints = missing(all, endpoints);
      if (absentEndpoints === 0) return { probeClusterIP: probe.clusterIP, daemon, command, seconds: (pollEnd - started) / 1000, resolutionSeconds, how: "poll" };
      log(`${contestant.name}: every Service is in, ${absentEndpoints} endpoints are not yet`);
    }
    await sleep(POLL_GAP_MS);
  }
  return { probeClusterIP: probe.clusterIP, daemon, command, seconds: null, resolutionSeconds, how: "poll", failure: `${contestant.name} had not programmed ${lastMissing} of ${clusterIPs.length} Services after ${timeoutMs / 1000} s; it printed: ${daemon.tail()}` };
}
