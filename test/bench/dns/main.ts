// The DNS section of `npm run bench`: signpost-dns against CoreDNS with kubeadm's Corefile, both
// watching one real kube-apiserver that holds N Services with 10 endpoints each, in the same run,
// each pinned to core 0 with dnsperf on core 1. A round times each contestant alone to ready and
// propagation (measure-contestant.ts), then runs every server at once and cuts the query runs
// into slices that take turns (query-round.ts). hack/bench.sh runs it inside a network namespace
// with only loopback:
//   node test/bench/dns/main.ts        (BENCH_COREDNS = coredns binary or empty, BENCH_QUICK=1)
// Each round also measures the machine's UDP ceiling (udp-ceiling.ts; BENCH_UDP_CEILING, built by
// hack/bench.sh) under the same saturation load, taking its turns among the contestants'.
// For a closer look (plan.ts): BENCH_DNS_SERVICES, BENCH_DNS_ROUNDS, BENCH_DNS_SECONDS,
// BENCH_DNS_FIXED_SECONDS, BENCH_DNS_SLICE_SECONDS, BENCH_DNS_RATE, BENCH_DNS_PROPAGATION, and
// BENCH_DNS_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": signpost-dns then stops
// with SIGTERM, so the profile is written; two per round, the turn alone and the query runs).
// It measures; it asserts nothing. CoreDNS missing or failing is recorded as such, and signpost's
// figures are still taken. Everything it starts is stopped, and its temporary directory removed,
// on any exit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlPlane } from "../../support/localcluster/control-plane.ts";
import { clients } from "../../support/kube.ts";
import { writeSectionResults } from "../results.ts";
import { createClusterObjects, SERVICE_CIDR } from "./cluster-objects.ts";
import type { ContestantId, ContestantSetup } from "./contestants.ts";
import { dnsCurves, dnsFigures, type FigureContext } from "./figures.ts";
import { measureTurn } from "./measure-contestant.ts";
import { measureQueryRound } from "./query-round.ts";
import { benchPlan } from "./plan.ts";
import { PROPAGATION_NAMESPACE } from "./propagation.ts";
import { writeQueryFiles } from "./query-files.ts";
import { Tally } from "./tally.ts";
import { startUpstream } from "./upstream.ts";
import { dnsVersions } from "./versions.ts";
import { errorMessage } from "../../../pkg/errors/error-message.ts";

const ZONE = "cluster.local";
const log = (message: string): void => {
  process.stderr.write(`[bench dns] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
};

const dir = mkdtempSync(join(tmpdir(), "signpost-bench-dns-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
// Exit hooks (SupervisedProcess, ControlPlane) kill every child and remove their directories.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => process.exit(130));

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const plan = benchPlan();
  const tally = new Tally();
  const corednsBinary = process.env["BENCH_COREDNS"] !== undefined && process.env["BENCH_COREDNS"] !== "" ? process.env["BENCH_COREDNS"] : null;
  const versions = dnsVersions(corednsBinary);
  const opponentName = corednsBinary === null ? "CoreDNS" : `CoreDNS ${versions["coredns"]?.replace("CoreDNS-", "v") ?? ""}`;
  const names: FigureContext["names"] = { signpost: "signpost-dns", coredns: opponentName };
  if (corednsBinary === null) tally.failures.set("coredns", "it could not be built (hack/build-coredns.sh failed; BENCH_COREDNS was empty)");
  log(`plan: ${JSON.stringify(plan)}; versions: ${JSON.stringify(versions)}`);

  const cp = await ControlPlane.start({ serviceCIDR: SERVICE_CIDR, baseDir: dir, log });
  try {
    const created = await createClusterObjects(cp, plan.services, plan.endpointsPerService, log);
    log(`created ${created.services} Services with ${created.endpoints} endpoints in ${created.seconds.toFixed(1)} s`);
    const { core, api } = clients(cp.kubeconfigPath);
    await core.createNamespace({ body: { metadata: { name: PROPAGATION_NAMESPACE } } });
    const upstream = await startUpstream(dir);
    log(`upstream: ${upstream.command.slice(0, 200)} …`);
    try {
      const queryFiles = writeQueryFiles(dir, plan.services);
      const setup: ContestantSetup = {
        dir,
        kubeconfigPath: cp.kubeconfigPath,
        resolvConf: upstream.resolvConf,
        zone: ZONE,
        corednsBinary,
        signpostNodeOptions: process.env["BENCH_DNS_NODE_OPTIONS"] ?? "",
      };
      const ceilingBinary = process.env["BENCH_UDP_CEILING"] ?? "";
      if (ceilingBinary === "") log("no BENCH_UDP_CEILING: the UDP ceiling is not measured");
      const failed = (id: ContestantId, round: number, message: string): void => {
        log(`${names[id]} failed in round ${round}: ${message}`);
        tally.failures.set(id, `round ${round}: ${message.slice(0, 2000)}`);
      };
      for (let round = 1; round <= plan.rounds; round++) {
        const order: ContestantId[] = round % 2 === 1 ? ["signpost", "coredns"] : ["coredns", "signpost"];
        for (const id of order) {
          if (tally.failures.has(id)) continue;
          log(`round ${round}/${plan.rounds}: ${names[id]} alone`);
          try {
            await measureTurn(id, { plan, setup, core, api, tally, round, log });
          } catch (err) {
            failed(id, round, errorMessage(err));
          }
        }
        const contestants = order.filter((id) => !tally.failures.has(id));
        log(`round ${round}/${plan.rounds}: query runs, ${[...(ceilingBinary === "" ? [] : ["UDP ceiling"]), ...contestants.map((id) => names[id])].join(", ")} taking turns`);
        await measureQueryRound({ plan, queryFiles, tally, log, setup, contestants, ceilingBinary, failed: (id, message) => failed(id, round, message) });
      }
    } finally {
      await upstream.process.stop();
    }
  } finally {
    await cp.stop();
  }

  const ctx: FigureContext = { plan, tally, opponentName, names };
  const figures = dnsFigures(ctx);
  const file = writeSectionResults({
    section: "dns",
    startedAt,
    finishedAt: new Date().toISOString(),
    versions,
    figures,
    curves: dnsCurves(ctx),
  });
  const median = (v: readonly number[] | null): string => {
    if (v === null) return "missing";
    const s = [...v].sort((a, b) => a - b);
    const m = s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
    return `${Number(m.toPrecision(4))} (n=${s.length})`;
  };
  for (const f of figures) log(`${f.group} | ${f.name}: signpost ${median(f.signpost)} ${f.unit}; ${opponentName} ${median(f.opponent)} ${f.unit}`);
  log(`wrote ${file} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
