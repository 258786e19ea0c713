// The data-plane figure: new TCP connections per second from the client pod through a ClusterIP
// among N Services (each first packet walks the proxy's NAT chains), and, as the ceiling, the
// same straight to the backend pod's IP with no Service in the way. connect-rate.c does the
// connecting (BENCH_CONNECT_RATE, built by hack/bench.sh); each connection must read the
// backend's greeting to count. Each run starts once the proxy is quiet: the latency block before
// it leaves syncs and restores behind, which would otherwise land in the first run only and
// weigh on the Service's figure against the direct one.
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { BACKEND_POD_IP, BACKEND_PORT, type BenchNode } from "./bench-node.ts";
import { treeCpuSeconds } from "./process-stats.ts";

export interface ConnectRate {
  readonly perSecond: number;
  readonly failed: number;
  /** CPU seconds the proxy and its children used during the run: a sync in the window competes with the connections. */
  readonly daemonCpuSeconds: number;
  /** How long the run waited for the proxy to be quiet, and whether it was by then. */
  readonly quietAfterSeconds: number;
  readonly quiet: boolean;
}

export const CONNECT_RATE_SECONDS = 3;

/** Quiet: the proxy and its children used at most QUIET_CPU_SECONDS in a window longer than the 1 s minSyncPeriod, so a deferred sync shows in it. */
const QUIET_WINDOW_MS = 2000;
const QUIET_CPU_SECONDS = 0.04;
const QUIET_TIMEOUT_MS = 120_000;

async function untilQuiet(daemonPid: number): Promise<{ seconds: number; quiet: boolean }> {
  const start = performance.now();
  let before = treeCpuSeconds(daemonPid);
  for (;;) {
    await sleep(QUIET_WINDOW_MS);
    const now = treeCpuSeconds(daemonPid);
    const seconds = (performance.now() - start) / 1000;
    if (now - before <= QUIET_CPU_SECONDS) return { seconds, quiet: true };
    if (seconds * 1000 >= QUIET_TIMEOUT_MS) return { seconds, quiet: false };
    before = now;
  }
}

async function rate(binary: string, node: BenchNode, host: string, port: number, daemonPid: number): Promise<ConnectRate> {
  const wait = await untilQuiet(daemonPid);
  const before = treeCpuSeconds(daemonPid);
  const r = await execa("ip", ["netns", "exec", node.clientNs.name, "taskset", "-c", "1", binary, host, String(port), String(CONNECT_RATE_SECONDS)], { timeout: 60_000 });
  const out = JSON.parse(String(r.stdout)) as { connections: number; failed: number; seconds: number };
  return { perSecond: out.connections / out.seconds, failed: out.failed, daemonCpuSeconds: treeCpuSeconds(daemonPid) - before, quietAfterSeconds: wait.seconds, quiet: wait.quiet };
}

/** Through the Service (port 80 of clusterIP), then directly to the backend, each once the proxy is quiet. */
export async function connectRates(binary: string, node: BenchNode, clusterIP: string, daemonPid: number): Promise<{ service: ConnectRate; direct: ConnectRate }> {
  const service = await rate(binary, node, clusterIP, 80, daemonPid);
  const direct = await rate(binary, node, BACKEND_POD_IP, BACKEND_PORT, daemonPid);
  return { service, direct };
}
