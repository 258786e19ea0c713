// The proxy half of `npm run bench` (hack/bench.sh runs it inside a network namespace with only
// loopback): signpost-proxy against kube-proxy v1.36.3 in iptables mode (and nftables mode as a
// reference), against one real kube-apiserver, at 1,000 and 10,000 Services of 10 endpoints.
// For each scale point, each contestant is run several times, alternating (and the order
// reversed every other round); every run is a fresh node namespace: a cold start, then a block
// of network programming latency events, churn in the plan's last runs (churnRuns), and a restart
// of the same daemon with its rules in place.
// Writes BENCH_OUT/proxy.json (1,000 Services and the fleet) or, with
// BENCH_PROXY_SECTION=proxy-10k, BENCH_OUT/proxy-10k.json (10,000 Services and churn); see plan.ts.
// With BENCH_PROXY_IPTABLES=nft, the proxy-nft section instead
// (plan.ts's nftPlan): both iptables-mode contestants on iptables-nft, without the nftables-mode
// reference and the fleet. With BENCH_PROXY_SECTION=proxy-30k, the proxy-30k section (plan.ts's
// largeScalePlan): 30,000 Services, fewer latency events, no fleet, no one-point cold-start plot.
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { ControlPlane } from "../../support/localcluster/control-plane.ts";
import { machineVersions } from "../machine.ts";
import { announceCommand, writeSectionResults } from "../results.ts";
import { API_ADDRESS, BenchNode, NODE_IP, prepareHarnessNamespace, releaseHarnessNamespace } from "./bench-node.ts";
import { churn } from "./churn.ts";
import { ClusterObjects, SERVICE_CIDR } from "./cluster-objects.ts";
import { coldStart, describeStart } from "./cold-start.ts";
import { restoreFloor } from "./restore-floor.ts";
import { type ConnectRate, connectRates } from "./connect-rate.ts";
import { apiServerPid, measureFleet } from "./fleet.ts";
import { type Contestant, iptablesFlavour, kubeProxy, kubeProxyConfigDir, kubeProxyVersion, signpost } from "./contestants.ts";
import { buildCurves, buildFigures, type FleetOutcome, fleetFigures } from "./figures.ts";
import { KubeRest } from "../kube-rest.ts";
import { atScale, type ContestantMeasurements, newContestantMeasurements, type ScaleMeasurements } from "./measurements.ts";
import { benchPlan, proxySection } from "./plan.ts";
import { programmingLatency } from "./programming-latency.ts";
import { log, percentile } from "./sampling.ts";
import { errorMessage } from "../../../pkg/errors/error-message.ts";

const startedAt = new Date().toISOString();
const plan = benchPlan();
const section = proxySection();
const onNft = section === "proxy-nft";
const kubeProxyBinary = process.env["BENCH_KUBE_PROXY"] ?? "";
const connectRateBinary = process.env["BENCH_CONNECT_RATE"] ?? "";
const liveNodes = new Set<BenchNode>();
const fleets = new Map<string, FleetOutcome>();
const median = (v: readonly number[]): number => percentile(v, 50);
let controlPlane: ControlPlane | null = null;
let api: KubeRest | null = null;

async function cleanup(): Promise<void> {
  for (const node of liveNodes) await node.destroy();
  liveNodes.clear();
  await api?.close();
  await controlPlane?.stop();
  const dir = kubeProxyConfigDir();
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  await releaseHarnessNamespace();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

function signpostVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
  let commit: string;
  try {
    commit = execSync("git rev-parse --short HEAD", { cwd: import.meta.dirname, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    commit = "unknown commit";
  }
  return `${pkg.version ?? "?"} (${commit})`;
}

/** BENCH_PROXY_ONLY="signpost,kube-proxy (iptables)" limits the contestants, to try one alone. */
function wanted(c: Contestant): boolean {
  const only = (process.env["BENCH_PROXY_ONLY"] ?? "").split(",").filter((s) => s !== "");
  return only.length === 0 || only.includes(c.name);
}

/**
 * A DaemonSet rollout on one node: the run's daemon has stopped and left its rules; a Service is
 * made while none runs, and the same daemon is started again. Timed as a cold start is, to the
 * first connection through that new Service (cold-start.ts).
 */
async function restartWithRulesInPlace(c: Contestant, s: ScaleMeasurements, node: BenchNode, objects: ClusterObjects, kubeconfig: string, where: string): Promise<void> {
  log(`${c.name}, ${where}: restart with the rules in place`);
  const again = await coldStart(c, node, kubeconfig, objects, plan.coldStartTimeoutMs);
  try {
    if (again.seconds === null) {
      s.problems.push(`restart: ${again.failure ?? "did not start"}`);
      log(`${c.name}: restart failed: ${again.failure ?? "did not start"}`);
      return;
    }
    s.restartSeconds.push(again.seconds);
    s.resolutionSeconds = Math.max(s.resolutionSeconds, again.resolutionSeconds);
    log(`${c.name}, ${where}: restart ${describeStart(again.seconds, again)}`);
  } finally {
    await again.daemon.stop();
  }
}

/** One run: fresh node, cold start, latency block, churn in the plan's last churnRuns runs, and a restart. */
async function oneRun(c: Contestant, m: ContestantMeasurements, scale: number, run: number, objects: ClusterObjects, kubeconfig: string): Promise<void> {
  const s = atScale(m, scale);
  const node = await BenchNode.create();
  liveNodes.add(node);
  try {
    log(`${c.name}, ${scale} Services, run ${run + 1}/${plan.runs}: cold start`);
    const cold = await coldStart(c, node, kubeconfig, objects, plan.coldStartTimeoutMs);
    if (m.command.length === 0) m.command.push(announceCommand(cold.command));
    s.resolutionSeconds = Math.max(s.resolutionSeconds, cold.resolutionSeconds);
    try {
      if (cold.seconds === null) {
        m.failure = cold.failure ?? "did not start";
        log(`${c.name}: ${m.failure}`);
        return;
      }
      s.coldStartSeconds.push(cold.seconds);
      if (c.isSignpost && c.backend === "iptables") {
        const floor = await restoreFloor(node);
        s.restoreFloorSeconds.push(floor.seconds);
        log(`${c.name}, ${scale} Services: its rule set (${floor.bytes} bytes) restored into an empty namespace in ${floor.seconds.toFixed(3)} s`);
      }
      log(`${c.name}, ${scale} Services: cold start ${describeStart(cold.seconds, cold)}`);
      await sleep(plan.settleMs);
      // An even number per run, so changes and probes stay equal in number.
      const events = 2 * Math.ceil(plan.events(scale, c.name) / plan.runs / 2);
      const block = await programmingLatency(cold.daemon, node, objects, { events, pauseMs: plan.pauseMs, seed: scale * 100 + run, timeoutMs: plan.eventTimeoutMs });
      s.metricRuns.push(block.metricSeconds);
      s.probeRuns.push(block.probeSeconds);
      s.problems.push(...block.problems);
      const ms = (v: number[]): string => `p50 ${(percentile(v, 50) * 1000).toFixed(0)} ms, p99 ${(percentile(v, 99) * 1000).toFixed(0)} ms`;
      log(`${c.name}, ${scale} Services: metric ${ms(block.metricSeconds)}; probe ${ms(block.probeSeconds)}${block.problems.length > 0 ? `; ${block.problems.length} problems: ${block.problems.slice(0, 3).join("; ")}` : ""}`);
      if (connectRateBinary !== "") {
        const r = await connectRates(connectRateBinary, node, cold.probeClusterIP, cold.daemon.pid);
        s.connectPerSecond.push(r.service.perSecond);
        s.directConnectPerSecond.push(r.direct.perSecond);
        if (r.service.failed > 0) s.problems.push(`${r.service.failed} connections through ${cold.probeClusterIP} failed`);
        for (const [what, x] of [["through the Service", r.service], ["straight to the pod", r.direct]] as const) {
          if (!x.quiet) s.problems.push(`the proxy was still busy after ${x.quietAfterSeconds.toFixed(0)} s when the connections ${what} began`);
        }
        const busy = (x: ConnectRate): string => `after ${x.quietAfterSeconds.toFixed(1)} s waiting for a quiet proxy, which used ${x.daemonCpuSeconds.toFixed(2)} CPU s meanwhile`;
        log(`${c.name}, ${scale} Services: ${r.service.perSecond.toFixed(0)} new connections/s through a ClusterIP (${r.service.failed} failed; ${busy(r.service)}), ${r.direct.perSecond.toFixed(0)}/s straight to the pod (${busy(r.direct)})`);
      }
      if (run >= plan.runs - plan.churnRuns && plan.churnScales.includes(scale)) {
        log(`${c.name}, ${scale} Services: churn, ${plan.churnPerSecond}/s for ${plan.churnSeconds} s`);
        const r = await churn(c, cold.daemon, node, objects, { seconds: plan.churnSeconds, perSecond: plan.churnPerSecond, seed: scale });
        s.churn.push(r);
        log(`${c.name}, ${scale} Services: churn CPU ${r.cpuOwnSeconds.toFixed(2)} s (+children ${r.cpuWithChildrenSeconds.toFixed(2)} s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${r.rules.rules} rules, ${r.rules.bytes} bytes, ${r.syncs ?? "?"} syncs, mean programming latency ${r.meanProgrammingSeconds === undefined ? "?" : `${(r.meanProgrammingSeconds * 1000).toFixed(0)} ms`}${r.failedChanges > 0 ? `, ${r.failedChanges} changes failed` : ""}`);
      }
    } finally {
      await cold.daemon.stop();
    }
    await restartWithRulesInPlace(c, s, node, objects, kubeconfig, `${scale} Services, run ${run + 1}/${plan.runs}`);
  } catch (err) {
    m.failure = `run ${run + 1} at ${scale} Services failed: ${errorMessage(err)}`;
    log(`${c.name}: ${m.failure}`);
  } finally {
    liveNodes.delete(node);
    await node.destroy();
    await objects.deleteProbeServices();
  }
}

async function main(): Promise<void> {
  await prepareHarnessNamespace();
  log(`plan: ${JSON.stringify({ ...plan, events: plan.scales.map((s) => [s, plan.events(s, "signpost"), plan.events(s, "kube-proxy (nftables)")]) })}`);
  const contestants: { c: Contestant; m: ContestantMeasurements }[] = [{ c: signpost(), m: newContestantMeasurements("signpost") }];
  const versions: Record<string, string> = { signpost: signpostVersion(), node: process.version };
  let kubeProxyNote = "";
  if (kubeProxyBinary !== "") {
    versions["kube-proxy"] = await kubeProxyVersion(kubeProxyBinary);
    for (const mode of onNft ? (["iptables"] as const) : (["iptables", "nftables"] as const)) {
      const c = kubeProxy(kubeProxyBinary, mode);
      contestants.push({ c, m: newContestantMeasurements(c.name) });
    }
  } else {
    kubeProxyNote = "BENCH_KUBE_PROXY is empty: hack/bench.sh could not build kube-proxy";
    log(kubeProxyNote);
  }
  versions["iptables"] = (await execa("iptables", ["--version"], { reject: false })).stdout.trim();
  versions["iptables used"] = iptablesFlavour() === "legacy" ? "iptables-legacy (BENCH_PROXY_IPTABLES=legacy)" : `the node's default iptables (BENCH_PROXY_IPTABLES=${onNft ? "nft" : "unset"})`;
  versions["nft"] = (await execa("nft", ["--version"], { reject: false })).stdout.trim();
  Object.assign(versions, machineVersions());

  log(`starting the control plane on ${API_ADDRESS}`);
  controlPlane = await ControlPlane.start({ bindAddress: API_ADDRESS, serviceCIDR: SERVICE_CIDR, baseDir: tmpdir(), log: (m) => log(m) });
  const kubeconfig = controlPlane.kubeconfigPath;
  versions["kube-apiserver"] = versions["kube-proxy"] ?? "v1.36.3";
  api = new KubeRest(controlPlane);
  const objects = new ClusterObjects(api);
  await objects.createNode(NODE_IP);

  for (const scale of plan.scales) {
    const t = Date.now();
    log(`creating Services up to ${scale}`);
    await objects.growTo(scale, (done) => log(`  ${done} more Services and EndpointSlices created`));
    log(`${scale} Services and EndpointSlices exist (${((Date.now() - t) / 1000).toFixed(0)} s)`);
    for (let run = 0; run < plan.runs; run++) {
      const order = run % 2 === 0 ? contestants : [...contestants].reverse();
      for (const { c, m } of order) {
        if (m.failure !== null || !wanted(c)) continue;
        await oneRun(c, m, scale, run, objects, kubeconfig);
      }
    }
    if (scale === Math.min(...plan.scales) && plan.fleet.instances > 0) {
      const apiPid = await apiServerPid(controlPlane.apiServerUrl);
      for (const { c } of contestants) {
        if (c.backend !== "iptables" || !wanted(c)) continue;
        log(`${c.name}: a fleet of ${plan.fleet.instances} instances on one API server, ${scale} Services`);
        try {
          const r = await measureFleet(c, kubeconfig, objects, api, apiPid, plan.fleet);
          fleets.set(c.name, { scale, result: r });
          log(`${c.name} fleet: all healthy after ${r.allSyncedSeconds.toFixed(1)} s; RSS median ${median(r.rssMiB).toFixed(0)} MiB; ${r.watches} watches; API server ${r.apiServerCpu.toFixed(2)} CPU under churn`);
        } catch (err) {
          const failure = errorMessage(err);
          fleets.set(c.name, { scale, failure });
          log(`${c.name} fleet failed: ${failure}`);
        }
      }
    }
  }

  const signpostM = contestants[0]?.m ?? newContestantMeasurements("signpost");
  const opponentFor = (name: string, targets: boolean): { name: string; version: string; m: ContestantMeasurements | null; targets: boolean } => ({
    name,
    version: versions["kube-proxy"] ?? "v1.36.3",
    m: contestants.find((x) => x.m.name === name)?.m ?? null,
    targets,
  });
  // The issue's targets are set at 1,000 and 10,000 Services on iptables-legacy: the proxy and proxy-10k sections'.
  const targets = section === "proxy" || section === "proxy-10k";
  const opponents = onNft ? [opponentFor("kube-proxy (iptables)", false)] : [opponentFor("kube-proxy (iptables)", targets), opponentFor("kube-proxy (nftables)", false)];
  const figures = buildFigures(plan, signpostM, opponents).map((f) => (kubeProxyNote === "" || f.opponent !== null ? f : { ...f, note: `${f.note ?? ""}. ${kubeProxyNote}` }));
  figures.push(...fleetFigures(fleets, `kube-proxy (iptables) ${versions["kube-proxy"] ?? "v1.36.3"}`));
  const curves = buildCurves(plan, contestants.map((x) => x.m));
  const file = writeSectionResults({
    section,
    startedAt,
    finishedAt: new Date().toISOString(),
    versions,
    // One report holds both sections: the nft rows and plots are named apart.
    figures: onNft ? figures.map((f) => ({ ...f, group: f.group.replace(/^proxy,/, "proxy on iptables-nft,") })) : figures,
    curves: onNft ? curves.map((c) => ({ ...c, slug: `nft-${c.slug}`, title: `${c.title}, on iptables-nft` })) : section === "proxy-30k" ? curves.filter((c) => c.slug !== "proxy-cold-start").map((c) => ({ ...c, slug: `30k-${c.slug}` })) : curves,
  });
  log(`wrote ${file}`);
}

try {
  await main();
} finally {
  await cleanup();
}
