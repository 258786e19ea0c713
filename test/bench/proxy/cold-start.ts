// Cold start: from the moment the daemon's process is started to the moment the kernel holds the
// full rule set, every Service's ClusterIP and every endpoint. The Service list is polled (it is
// cheap), then the whole NAT table is read to confirm; the time taken is the end of the poll that
// first saw every Service, confirmed by the whole table. The poll's own duration bounds the
// resolution, and is reported.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchNode } from "./bench-node.ts";
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
  /** The longest single poll of the Service list, in seconds: the measurement's resolution. */
  readonly pollSeconds: number;
}

const POLL_GAP_MS = 50;

export async function coldStart(contestant: Contestant, node: BenchNode, kubeconfig: string, objects: ClusterObjects, timeoutMs: number): Promise<ColdStart> {
  const { clusterIPs, endpoints } = objects.expectedAddresses();
  const started = performance.now();
  const { daemon, command } = await startDaemon(contestant, node, kubeconfig);
  let pollSeconds = 0;
  let lastMissing = clusterIPs.length;
  while (performance.now() - started < timeoutMs) {
    if (daemon.exited) return { daemon, command, seconds: null, pollSeconds, failure: `${contestant.name} ${daemon.exitDescription()}: ${daemon.tail()}` };
    const pollStart = performance.now();
    const services = await serviceAddresses(node, contestant.backend);
    const pollEnd = performance.now();
    pollSeconds = Math.max(pollSeconds, (pollEnd - pollStart) / 1000);
    lastMissing = missing(services, clusterIPs);
    if (lastMissing === 0) {
      const all = await natAddresses(node, contestant.backend);
      const absentEndpoints = missing(all, endpoints);
      if (absentEndpoints === 0) return { daemon, command, seconds: (pollEnd - started) / 1000, pollSeconds };
      log(`${contestant.name}: every Service is in, ${absentEndpoints} endpoints are not yet`);
    }
    await sleep(POLL_GAP_MS);
  }
  return { daemon, command, seconds: null, pollSeconds, failure: `${contestant.name} had not programmed ${lastMissing} of ${clusterIPs.length} Services after ${timeoutMs / 1000} s; it printed: ${daemon.tail()}` };
}
