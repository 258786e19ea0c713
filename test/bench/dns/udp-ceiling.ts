// The machine's UDP ceiling in the same run as the contestants: udp-ceiling.c, pinned to the
// contestants' core, answers dnsperf's saturation runs of every query kind with one prepared
// record. What it reaches is the most any DNS server can reach on this core with this client,
// so each contestant's queries/s is also shown as a share of it. It takes its turns among the
// contestants' (interleaved-queries.ts). hack/bench.sh builds the binary (BENCH_UDP_CEILING);
// without it the ceiling is reported as missing.
import { join } from "node:path";
import { freePort } from "../../support/localcluster/free-port.ts";
import { SupervisedProcess } from "../../support/localcluster/supervised-process.ts";
import { SERVER_CORE } from "./contestants.ts";

export interface RunningCeiling {
  readonly port: number;
  readonly command: string;
  readonly process: SupervisedProcess;
}

export async function startCeiling(binary: string, dir: string): Promise<RunningCeiling> {
  const port = await freePort();
  const args = ["-c", SERVER_CORE, binary, "127.0.0.1", String(port)];
  const process = new SupervisedProcess({ name: "udp-ceiling", command: "taskset", args, logFile: join(dir, "udp-ceiling.log") });
  return { port, command: `taskset ${args.join(" ")}`, process };
}
