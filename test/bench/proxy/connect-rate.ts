// The data-plane figure: new TCP connections per second from the client pod through a ClusterIP
// among N Services (each first packet walks the proxy's NAT chains), and, as the ceiling, the
// same straight to the backend pod's IP with no Service in the way. connect-rate.c does the
// connecting (BENCH_CONNECT_RATE, built by hack/bench.sh); each connection must read the
// backend's greeting to count.
import { execa } from "execa";
import { BACKEND_POD_IP, BACKEND_PORT, type BenchNode } from "./bench-node.ts";
import { cpuTimes } from "./process-stats.ts";

export interface ConnectRate {
  readonly perSecond: number;
  readonly failed: number;
  /** CPU seconds the proxy daemon and the children it reaped used meanwhile: a sync in the window competes with the connections. */
  readonly daemonCpuSeconds: number;
}

export const CONNECT_RATE_SECONDS = 3;

async function rate(binary: string, node: BenchNode, host: string, port: number, daemonPid: number): Promise<ConnectRate> {
  const before = cpuTimes(daemonPid);
  const r = await execa("ip", ["netns", "exec", node.clientNs.name, "taskset", "-c", "1", binary, host, String(port), String(CONNECT_RATE_SECONDS)], { timeout: 60_000 });
  const out = JSON.parse(String(r.stdout)) as { connections: number; failed: number; seconds: number };
  const after = cpuTimes(daemonPid);
  return { perSecond: out.connections / out.seconds, failed: out.failed, daemonCpuSeconds: after.own + after.children - before.own - before.children };
}

/** Through the Service (port 80 of clusterIP), then directly to the backend. */
export async function connectRates(binary: string, node: BenchNode, clusterIP: string, daemonPid: number): Promise<{ service: ConnectRate; direct: ConnectRate }> {
  const service = await rate(binary, node, clusterIP, 80, daemonPid);
  const direct = await rate(binary, node, BACKEND_POD_IP, BACKEND_PORT, daemonPid);
  return { service, direct };
}
