// Readiness probes as the kubelet runs them: httpGet (2xx/3xx passes), tcpSocket (a connection
// passes) and exec (exit 0 passes), each against the pod's own address or inside its namespace.
import type { V1Container, V1Probe } from "@kubernetes/client-node";
import { request } from "node:http";
import { connect } from "node:net";
import { execa } from "execa";

export type ProbeOutcome = "success" | "failure";

export interface ProbeTarget {
  readonly podIP: string;
  readonly netns: string;
}

/** A probe's port may be a number or the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, container: V1Container): number {
  if (typeof port === "number") return port;
  if (port === undefined) return 0;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort ?? 0;
}

export async function runProbe(probe: V1Probe, container: V1Container, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet !== undefined) {
    const port = resolvePort(probe.httpGet.port, container);
    const host = probe.httpGet.host ?? target.podIP;
    return new Promise((resolve) => {
      const req = request({ host, port, path: probe.httpGet?.path ?? "/", timeout: timeoutMs, headers: { "user-agent": "kube-probe/signpost-local" } }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? "success" : "failure");
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve("failure"));
      req.end();
    });
  }
  if (probe.tcpSocket !== undefined) {
    const port = resolvePort(probe.tcpSocket.port, container);
    return new Promise((resolve) => {
      const s = connect({ host: probe.tcpSocket?.host ?? target.podIP, port, timeout: timeoutMs });
      s.once("connect", () => {
        s.destroy();
        resolve("success");
      });
      s.once("timeout", () => {
        s.destroy();
        resolve("failure");
      });
      s.once("error", () => resolve("failure"));
    });
  }
  if (probe.exec?.command !== undefined && probe.exec.command.length > 0) {
    const r = await execa("ip", ["netns", "exec", target.netns, ...probe.exec.command], { reject: false, timeout: timeoutMs, stdin: "ignore" });
    return r.exitCode === 0 ? "success" : "failure";
  }
  return "success";
}
