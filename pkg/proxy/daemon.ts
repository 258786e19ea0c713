// signpost-proxy as a daemon: the watch (Node, Services, EndpointSlices) feeds one proxier per
// IP family the node has; the side servers (/healthz and /livez, /metrics, health-check node
// ports) get derived data only. Rules are left in place on exit, as kube-proxy leaves them, so a
// restart breaks no connection; --cleanup removes them.
import { settleHeap } from "../cli/settle-heap.ts";
import { allInOrder } from "../errors/all-in-order.ts";
import type { Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { EndpointSlice, IPFamily, Node } from "../model/types.ts";
import { ApiClient } from "../kube/api-client.ts";
import { nodeInformer, projectedEndpointSliceInformer, serviceInformer, type InformerDeps } from "../kube/cluster-informers.ts";
import type { Informer } from "../kube/informer.ts";
import { informerMetrics } from "../kube/informer-metrics.ts";
import { loadKubeConfig } from "../kube/load-kubeconfig.ts";
import type { Clock } from "./clock.ts";
import { realClock } from "./clock.ts";
import type { DaemonOptions } from "./config/proxy-options.ts";
import type { CommandRunner } from "./exec/command-runner.ts";
import { Conntrack } from "./exec/conntrack.ts";
import { ensureSysctl, hostHashsizeFile, type Sysctls } from "./exec/sysctl.ts";
import { targetNamespace } from "./exec/target-namespace.ts";
import { applyConntrackSysctls } from "./conntrack-sysctls.ts";
import { cpus } from "node:os";
import { healthHandler } from "./health/health-server.ts";
import { nodeEligible as isNodeEligible } from "./health/node-eligibility.ts";
import { type Listening, metricsHandler, routed, splitBindAddress } from "../http/side-server.ts";
import { listenHttpOrRetry } from "./health/listen-retry.ts";
import { applyOomScoreAdj } from "./exec/oom-score-adj.ts";
import { ProxyHealth } from "./health/proxy-health.ts";
import { ServiceHealthServer } from "./health/service-health-server.ts";
import type { IptablesBackend } from "./iptables/executor.ts";
import { IptablesExecutor } from "./iptables/executor.ts";
import { type IptablesCapabilities, whileLockBusy } from "./iptables/iptables.ts";
import { nodePortIPs, nodePortsOnAllAddresses, nodePortsOnLoopback } from "./iptables/render-static.ts";
import { Proxier } from "./proxier.ts";
import { healthCheckServices } from "./proxy-state.ts";
import { proxyMetrics } from "./proxy-metrics.ts";
import { nodeFamilies, renderConfigFor } from "./proxy-settings.ts";
import { OrphanSlices } from "./orphan-slices.ts";
import { ServiceProblems } from "./service-problems.ts";
import { SliceProblems } from "./slice-problems.ts";
import { localSliceSelector } from "./node-local/node-local-option.ts";
import { NodeLocalSteering } from "./node-local/node-local-steering.ts";

/** Objects that belong to another proxy, or to no proxy at all, as kube-proxy selects them. */
const proxiedSelector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";

export interface RunningDaemon {
  readonly healthzPort: number;
  readonly metricsPort: number;
  readonly families: readonly IPFamily[];
  stop(): Promise<void>;
}

/** A family whose iptables works here, with the protocols its kernel can match. */
interface UsableFamily {
  readonly family: IPFamily;
  readonly iptables: IptablesExecutor;
  readonly caps: IptablesCapabilities;
}

/** A family's iptables checked: its binary and nat table work, and what its kernel can match. */
async function checkFamily(family: IPFamily, runner: CommandRunner, backend: IptablesBackend, log: Logger): Promise<UsableFamily> {
  const iptables = new IptablesExecutor(family, runner, backend);
  // A cheap call that fails when the binary or the kernel's nat table is missing (its error
  // says so better than a probe's would). Another program holding the xtables lock is waited
  // out, however long: exiting would only trade the wait for the kubelet's restart back-off.
  const [, caps] = await whileLockBusy(
    () => allInOrder([iptables.chainRules("nat", "POSTROUTING"), iptables.capabilities()]),
    (err, attempt) => log.warn({ family, attempt, err }, "another program holds the xtables lock; checking iptables again in 1 s"),
  );
  return { family, iptables, caps };
}

/**
 * The families whose iptables binaries work here; the node's first family must be one. The
 * families are checked side by side, and so are each one's two checks.
 */
async function usableFamilies(wanted: readonly IPFamily[], check: (family: IPFamily) => Promise<UsableFamily>, log: Logger): Promise<UsableFamily[]> {
  const checked = await Promise.allSettled(wanted.map(check));
  const out: UsableFamily[] = [];
  checked.forEach((c, i) => {
    if (c.status === "fulfilled") {
      const { family, caps } = c.value;
      log.info({ family, backend: caps.backend, randomFully: caps.randomFully, protocols: [...caps.protocols] }, "iptables capabilities");
      out.push(c.value);
    } else if (out.length === 0) throw c.reason;
    else log.warn({ family: wanted[i], err: c.reason }, "this family's iptables does not work: its Services are not programmed");
  });
  return out;
}

export async function startDaemon(options: DaemonOptions, log: Logger, clock: Clock = realClock): Promise<RunningDaemon> {
  const { runner, sysctls, interfaceAddresses: readInterfaces } = targetNamespace(options.iptablesNetns);
  // IPv4, the family of most nodes, is checked from the start: the check's four processes then
  // run while the Node is listed instead of after. The Node's other families are checked once
  // it is read; a failure of this one is handled there, or ignored when the Node lacks IPv4.
  const ipv4Check = checkFamily("IPv4", runner, options.iptablesBackend, log);
  ipv4Check.catch(() => undefined);
  const kc = loadKubeConfig(options.kubeconfig);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = proxyMetrics(registry);
  const health = new ProxyHealth(clock, 2 * options.syncPeriodMs);
  if (options.ignoredConfig.length > 0) log.info({ ignored: options.ignoredConfig }, "config fields present and ignored");
  const oomRefused = await applyOomScoreAdj(options.oomScoreAdj);
  if (oomRefused === null) log.info({ oomScoreAdj: options.oomScoreAdj }, "OOM score adjusted");
  else log.warn({ oomScoreAdj: options.oomScoreAdj, reason: oomRefused }, "OOM score not adjusted (lowering it needs CAP_SYS_RESOURCE); the daemon runs on");
  // The conntrack sysctls (one read of them all, one write of what differs) are set while the
  // Node, Services and EndpointSlices are listed; the proxiers, which need be_liberal's value,
  // wait for them.
  const conntrackTuned = tuneConntrack(options, sysctls, log);
  // Awaited below; until then a failure must not count as unhandled.
  conntrackTuned.catch(() => undefined);

  let nodeEligible = true;
  const listening: Listening[] = [];
  // As kube-proxy: an address that cannot be bound is retried every 5 s, unless --bind-address-hard-fail.
  const retry = (server: string) => ({
    hardFail: options.bindAddressHardFail,
    retryMs: 5000,
    onError: (err: unknown) => log.error({ err, server }, `the ${server} server cannot listen; retrying in 5s (--bind-address-hard-fail makes this fatal)`),
    onListening: (l: Listening) => log.info({ server, address: l.address, port: l.port }, `the ${server} server listens`),
  });
  const hz = splitBindAddress(options.healthzBindAddress);
  const healthz = await listenHttpOrRetry(
    hz.host,
    hz.port,
    healthHandler({ health, nodeEligible: () => nodeEligible, count: (k, c) => metrics.healthz(k, c) }),
    `--healthz-bind-address ${options.healthzBindAddress}`,
    retry("healthz"),
  );
  listening.push(healthz);
  const mz = splitBindAddress(options.metricsBindAddress);
  const exposition = async () => ({ text: await registry.metrics(), contentType: registry.contentType });
  const metricsServer = await listenHttpOrRetry(mz.host, mz.port, routed({ "/metrics": metricsHandler(exposition) }), `--metrics-bind-address ${options.metricsBindAddress}`, retry("metrics"));
  listening.push(metricsServer);

  const deps = { client: new ApiClient(kc), log, metrics: informerMetrics(registry) };
  const nodes: Informer<Node> = nodeInformer(deps, `metadata.name=${options.nodeName}`);
  // Registered before start so no event is missed; the proxiers are told once they exist.
  const proxiers: Proxier[] = [];
  nodes.onEvent((e) => {
    const current = e.type === "delete" ? null : e.object;
    nodeEligible = isNodeEligible(current);
    for (const p of proxiers) p.setNode(current);
  });
  // The Services and EndpointSlices are listed while this Node is read and the families
  // probed; their handlers, registered once the proxiers exist, are handed what arrived so far.
  const services = serviceInformer(deps, proxiedSelector);
  // Each slice with its last-change-trigger-time, where programming latency starts.
  const slices = projectedEndpointSliceInformer(deps, (slice, triggerTimeMs) => ({ slice, triggerTimeMs }), { labelSelector: proxiedSelector });
  nodes.start();
  services.start();
  slices.start();
  await nodes.synced();
  const node = nodes.get(options.nodeName) ?? null;
  if (node === null) log.warn({ node: options.nodeName }, "no Node object with this name yet: node ports and source ranges wait for it");

  const families = await usableFamilies(nodeFamilies(node), (f) => (f === "IPv4" ? ipv4Check : checkFamily(f, runner, options.iptablesBackend, log)), log);
  const settings = options.settings;
  const primary = families[0];
  if (primary === undefined) throw new Error("no IP family to serve");
  const interfaceAddresses = async (family: IPFamily): Promise<string[]> =>
    (await readInterfaces()).filter((a) => a.family === family).map((a) => a.address);
  const hcAddresses = await (async () => {
    const cfg = renderConfigFor({ settings, family: primary.family, node, randomFully: false, omitEndpointComments: false });
    if (nodePortsOnAllAddresses(cfg)) return [primary.family === "IPv4" ? "0.0.0.0" : "::"];
    try {
      return nodePortIPs({ ...cfg, interfaceIPs: await interfaceAddresses(primary.family) });
    } catch (err) {
      log.warn({ err }, "cannot read the interface addresses: health check node ports listen on the Node's addresses in --nodeport-addresses");
      return nodePortIPs(cfg);
    }
  })();
  const serviceHealth = new ServiceHealthServer({ addresses: hcAddresses, proxyHealthy: () => health.status().healthy, log });

  if (families.some((f) => f.family === "IPv4")) await enableRouteLocalnet(options, node, sysctls, log);
  const tcpBeLiberal = await conntrackTuned;
  if (tcpBeLiberal) log.info("nf_conntrack_tcp_be_liberal set, not installing DROP rules for INVALID packets");

  const orphans = new OrphanSlices(log);
  for (const f of families) {
    proxiers.push(
      new Proxier({
        family: f.family,
        nodeName: options.nodeName,
        settings,
        iptables: f.iptables,
        conntrack: new Conntrack(f.family, runner),
        log,
        metrics: proxyMetrics(registry, f.family),
        health,
        clock,
        minSyncPeriodMs: options.minSyncPeriodMs,
        syncPeriodMs: options.syncPeriodMs,
        tcpBeLiberal,
        interfaceAddresses,
        ...(f === primary
          ? {
              onProgrammed: (state) => {
                void serviceHealth.sync(healthCheckServices(state));
                orphans.report();
              },
            }
          : {}),
        // A full sync of 10,000 Services leaves tens of MiB of text behind (its render, the
        // iptables-save it read), which V8 would otherwise keep resident until it needs the room
        // (peak RSS under churn at 10,000 Services: 466 MiB with this, 530 without).
        afterFullSync: () => {
          const ms = settleHeap();
          log.debug({ family: f.family, ms: Math.round(ms) }, "heap settled after a full sync");
        },
      }),
    );
  }
  const problems = new ServiceProblems({ families: families.map((f) => f.family), protocols: primary.caps.protocols }, log, metrics);
  const sliceProblems = new SliceProblems(log);
  for (const p of proxiers) p.setNode(nodes.get(options.nodeName) ?? null);

  const nodeLocal = startNodeLocal(options, families.map((f) => f.iptables), deps, log);
  services.onEvent((e) => {
    const prev = e.type === "add" ? null : e.old;
    const cur = e.type === "delete" ? null : e.object;
    nodeLocal?.steering.onService(prev, cur);
    problems.update(prev, cur);
    orphans.onService(prev, cur);
    for (const p of proxiers) p.onServiceEvent(prev, cur);
  });
  slices.onEvent((e) => {
    const prev = e.type === "add" ? null : e.old.slice;
    const cur = e.type === "delete" ? null : e.object.slice;
    const trigger = e.type === "delete" ? null : e.object.triggerTimeMs;
    orphans.onSlice(prev, cur);
    sliceProblems.update(prev, cur);
    for (const p of proxiers) p.onSliceEvent(prev, cur, trigger);
  });
  await Promise.all([services.synced(), slices.synced(), nodeLocal?.slices.synced()]);
  log.info({ node: options.nodeName, families: families.map((f) => f.family), services: services.size, endpointSlices: slices.size }, "synced; programming rules");
  for (const p of proxiers) p.start();
  nodeLocal?.steering.start();

  return {
    healthzPort: healthz.port,
    metricsPort: metricsServer.port,
    families: families.map((f) => f.family),
    async stop() {
      await Promise.all([services.stop(), slices.stop(), nodes.stop(), nodeLocal?.slices.stop()]);
      await nodeLocal?.steering.stop();
      await Promise.all(proxiers.map((p) => p.stop()));
      await serviceHealth.close();
      await Promise.all(listening.map((l) => l.close()));
    },
  };
}

/** --node-local-replica: a watch of the local Services' EndpointSlices and the raw-table steering; null when not asked for. */
function startNodeLocal(options: DaemonOptions, iptables: readonly IptablesExecutor[], deps: InformerDeps, log: Logger): { steering: NodeLocalSteering; slices: Informer<EndpointSlice> } | null {
  if (options.nodeLocalReplicas.length === 0) return null;
  const steering = new NodeLocalSteering({ replicas: options.nodeLocalReplicas, nodeName: options.nodeName, iptables, log, recheckMs: options.syncPeriodMs });
  const slices = projectedEndpointSliceInformer(deps, (s) => s, { labelSelector: localSliceSelector(options.nodeLocalReplicas) });
  slices.onEvent((e) => steering.onLocalSlice(e.type === "add" ? null : e.old, e.type === "delete" ? null : e.object));
  slices.start();
  log.info({ replicas: options.nodeLocalReplicas.map((r) => `${r.service}=${r.localService}`) }, "node-local replicas: steering opted in");
  return { steering, slices };
}

/**
 * --init-only: what needs full root privileges, done once, as kube-proxy's init container does
 * it: the conntrack sysctls and route_localnet. The daemon can then run with CAP_NET_ADMIN only.
 */
export async function initializeNode(options: DaemonOptions, log: Logger): Promise<void> {
  const { sysctls } = targetNamespace(options.iptablesNetns);
  await tuneConntrack(options, sysctls, log);
  await enableRouteLocalnet(options, null, sysctls, log);
  log.info("node initialized (--init-only): exiting");
}

/** Node ports on 127.0.0.1 need the kernel to route loopback-sourced traffic off lo. */
async function enableRouteLocalnet(options: DaemonOptions, node: Node | null, sysctls: Sysctls, log: Logger): Promise<void> {
  const ipv4Config = renderConfigFor({ settings: options.settings, family: "IPv4", node, randomFully: false, omitEndpointComments: false });
  if (!nodePortsOnLoopback(ipv4Config)) return;
  try {
    await ensureSysctl(sysctls, "net.ipv4.conf.all.route_localnet", "1");
  } catch (err) {
    log.warn({ err }, "cannot set route_localnet: node ports on 127.0.0.1 will not work");
  }
}

/**
 * Sizes and times the conntrack table at start, as kube-proxy does; a refused write is logged,
 * never fatal. Returns whether nf_conntrack_tcp_be_liberal is on.
 */
async function tuneConntrack(options: DaemonOptions, sysctls: Sysctls, log: Logger): Promise<boolean> {
  const cores = cpus().length;
  const result = await applyConntrackSysctls(options.conntrack, cores, sysctls, hostHashsizeFile);
  log.info({ settings: options.conntrack, cores, set: Object.fromEntries(result.set.map((c) => [c.key, c.value])) }, "conntrack tuned");
  for (const { change, reason } of result.failed) {
    log.warn({ key: change.key, value: change.value, reason }, "conntrack setting not applied (outside the host's network namespace, /proc/sys and /sys are often read-only); the rules work without it");
  }
  return result.tcpBeLiberal;
}
