// The machine's UDP ceiling in the same run as the contestants: udp-ceiling.c, pinned to the
// contestants' core, answers dnsperf's saturation runs of every query kind with one prepared
// record. What it reaches is the most any DNS server can reach on this core with this client,
// so each contestant's queries/s is also shown as a share of it. hack/bench.sh builds the binary
// (BENCH_UDP_CEILING); without it the ceiling is reported as missing.
import { join } from "node:path";
import { freePort } from "../../support/localcluster/free-port.ts";
import { SupervisedProcess } from "../../support/localcluster/supervised-process.ts";
import { SERVER_CORE } from "./contestants.ts";
import { dnsperf } from "./dnsperf.ts";
import type { BenchPlan } from "./plan.ts";
import { QUERY_KINDS, type QueryKind } from "./query-files.ts";
import type { Tally } from "./tally.ts";

export interface CeilingContext {
  readonly binary: string;
  readonly dir: string;
  readonly plan: BenchPlan;
  readonly queryFiles: Readonly<Record<QueryKind, string>>;
  readonly tally: Tally;
  readonly log: (message: string) => void;
}

/** One round: start the responder, one warm-up and one saturation run per query kind, stop it. */
export async function measureCeiling(ctx: CeilingContext): Promise<void> {
  const port = await freePort();
  const args = ["-c", SERVER_CORE, ctx.binary, "127.0.0.1", String(port)];
  const p = new SupervisedProcess({ name: "udp-ceiling", command: "taskset", args, logFile: join(ctx.dir, "udp-ceiling.log") });
  try {
    for (const kind of QUERY_KINDS) {
      const file = ctx.queryFiles[kind];
      await dnsperf({ port, file, seconds: ctx.plan.warmSeconds, latencies: false });
      const run = await dnsperf({ port, file, seconds: ctx.plan.saturationSeconds, latencies: false });
      ctx.tally.command(`${kind}:qps`, `taskset ${args.join(" ")}`);
      ctx.tally.add("ceiling", `${kind}:qps`, run.qps);
      ctx.log(`UDP ceiling ${kind}: ${run.qps.toFixed(0)} q/s (lost ${run.lost})`);
    }
  } finally {
    await p.kill();
  }
}
