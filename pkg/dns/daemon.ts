// signpost-dns assembled: a record store fed by the API server (or by a file, offline), the
// UDP/TCP server answering from it, the forwarder for other names, and the side servers for
// health, readiness and metrics. Shutdown is CoreDNS's lameduck: /ready fails at once, queries
// are still answered for the lameduck period, then everything closes.
import { setTimeout as sleep } from "node:timers/promises";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { SignpostError } from "../errors/errors.ts";
import { ApiClient } from "../kube/api-client.ts";
import { namespaceInformer, podInformer, projectedEndpointSliceInformer, serviceInformer } from "../kube/cluster-informers.ts";
import { type ObjectKind, readObjectsFile, skippedKinds } from "../kube/objects-file.ts";
import { informerMetrics } from "../kube/informer-metrics.ts";
import { loadKubeConfig } from "../kube/load-kubeconfig.ts";
import { AnswerCache } from "./answer-cache.ts";
import { AutopathMetrics, createAutopath } from "./autopath.ts";
import { type CacheConfig, type DnsDaemonConfig, isWildcard } from "./daemon-flags.ts";
import { ForwardCache } from "./forward-cache.ts";
import { ReloadMetrics, contentHash, initialConfig, watchDnsConfig } from "./config/config-reload.ts";
import { describeConfig, type EffectiveDnsConfig, forwardChanged, restartOnlyChanges } from "./config/effective-config.ts";
import { LiveForwarding } from "./config/live-forwarding.ts";
import { DEFAULT_LOG_SETTINGS } from "./config/log-config.ts";
import { ErrorLog, reportingErrors } from "./error-log.ts";
import { LivePlugins } from "./config/live-plugins.ts";
import { pluginsChanged } from "./config/plugin-settings.ts";
import { withPlugins } from "./query-plugins.ts";
import { startSideServers, type SideServerPorts } from "./health-server.ts";
import { QueryMetrics, TcpMetrics } from "./metrics.ts";
import { sliceFields, sliceProjection, storeScope } from "./cluster-scope.ts";
import type { DnsEndpointSlice } from "./dns-slice.ts";
import type { EndpointSlice } from "../model/types.ts";
import { logQueries } from "./query-log.ts";
import { logDroppedExposition, QueryLogGate } from "./query-log-gate.ts";
import type { QueryHandler } from "./query-handler.ts";
import { ProgrammingLatency } from "./programming-latency.ts";
import { RecordStore } from "./record-store.ts";
import { ReverseZones } from "./reverse-zones.ts";
import { addNodeLocalAddress } from "./node-local-address.ts";
import { formatListen, type ListenAddress } from "./resolv-conf.ts";
import { serverAddresses } from "./server-addresses.ts";
import { createDnsServer, type DnsServer } from "./server.ts";
import { settleHeap } from "../cli/settle-heap.ts";
import { loadStore, storeObjects, syncStore } from "./store-sync.ts";
import { udpDropsExposition } from "./udp-drops.ts";
import { errorMessage } from "../errors/error-message.ts";

export interface DnsDaemon {
  /** The DNS address bound: the port differs from the one asked for when that was 0. */
  readonly dns: ListenAddress;
  readonly ports: SideServerPorts;
  readonly store: RecordStore;
  /** Lameduck, then close: /ready fails now, answers go on for the lameduck period. */
  shutdown(): Promise<void>;
  /** Closes everything at once. */
  close(): Promise<void>;
}

export async function startDnsDaemon(flags: DnsDaemonConfig, log: Logger): Promise<DnsDaemon> {
  const initial = initialConfig(flags);
  let running = initial.config;
  const config = running.daemon;
  /** What a reload can change in place; the rest of `config` holds until a restart. */
  const live = { queryLog: config.queryLog };
  const registry = new Registry();
  const cluster = running.cluster;
  const store = new RecordStore({ zone: config.zone, pods: config.pods, ttl: config.ttl, serverAddresses: serverAddresses(config.listen.host), ...storeScope(cluster) });
  const stops: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };

  try {
    // Once the first load is built: its conversion left the most garbage there will be, which V8
    // would otherwise keep resident as headroom. Answers wait while it runs (the "ms" logged).
    const settle = (): void => log.info({ ms: Math.round(settleHeap()) }, "heap settled: the first load is built");
    if (config.objects !== null) {
      loadFile(store, config.objects, log, sliceProjection(cluster), settle);
    } else {
      const client = new ApiClient(loadKubeConfig(config.kubeconfig ?? undefined));
      const deps = { client, log, metrics: informerMetrics(registry) };
      const informers = { services: serviceInformer(deps), endpointSlices: projectedEndpointSliceInformer(deps, sliceProjection(cluster), { decoded: sliceFields(cluster) }), namespaces: namespaceInformer(deps) };
      // Pods are watched only to verify pod names: at scale they are the largest list there is.
      const pods = config.pods === "verified" ? podInformer(deps) : null;
      const all = [informers.services, informers.endpointSlices, informers.namespaces, ...(pods === null ? [] : [pods])];
      const synced = syncStore(store, pods === null ? informers : { ...informers, pods }, settle);
      // Registered after the store's handler, so it runs once the store has applied the slice;
      // the slices of the first list are built only at its end, and are not observed.
      const programming = new ProgrammingLatency(registry);
      informers.endpointSlices.onEvent((e) => {
        if (e.type !== "delete" && store.synced) programming.sliceApplied(e.type === "update" ? e.old.triggerTimeMs : undefined, e.object.triggerTimeMs);
      });
      for (const informer of all) informer.start();
      stops.push(async () => void (await Promise.all(all.map((i) => i.stop()))));
      synced.then(
        () =>
          log.info(
            {
              services: informers.services.size,
              endpointSlices: informers.endpointSlices.size,
              namespaces: informers.namespaces.size,
              ...(pods === null ? {} : { pods: pods.size }),
            },
            "synced with the API server: answering",
          ),
        (err: unknown) => log.error({ err }, "sync failed"),
      );
    }

    const caches = createCaches(config.caches);
    const forwarder = new LiveForwarding(running.forward, caches.forward, log);
    stops.push(() => forwarder.close());
    const queryLogGate = new QueryLogGate(config.log ?? DEFAULT_LOG_SETTINGS);
    const errorLog = new ErrorLog(log.child({ component: "errors" }), config.log ?? DEFAULT_LOG_SETTINGS);
    stops.push(() => Promise.resolve(errorLog.close()));
    const forward = reportingErrors(forwarder.forward, errorLog);
    const plugins = new LivePlugins(log);
    await plugins.replace(running.plugins);
    stops.push(() => Promise.resolve(plugins.close()));
    const wildcard = isWildcard(config.listen.host);
    const family = isIPv6(config.listen.host) ? "2" : "1";
    let boundPort = config.listen.port;
    const serverLabel = () => (wildcard ? `dns://:${boundPort}` : `dns://${formatListen({ ...config.listen, port: boundPort })}`);
    const metrics = new QueryMetrics({ server: serverLabel, family, cache: forwarder.cache, answerCache: caches.answer, zones: metricZones(running) });
    const tcpMetrics = new TcpMetrics(serverLabel);
    const instrument = (handler: QueryHandler): QueryHandler => {
      const watched = forwarder.watch(withPlugins(handler, plugins.current, true));
      const logged = logQueries(log.child({ component: "query-log" }), watched, queryLogGate);
      return metrics.instrument((message, transport, peer) => (live.queryLog ? logged : watched)(message, transport, peer));
    };
    const autopathMetrics = new AutopathMetrics();
    const autopath = config.autopath === undefined ? undefined : createAutopath({ store, forward, search: config.autopath.search, onSuccess: autopathMetrics.success });
    if (config.nodeLocalInterface !== null) await addNodeLocalAddress(config.nodeLocalInterface, config.listen.host, log);
    const server = await listenDns(config.listen, {
      store,
      forward,
      reverseZones: new ReverseZones(cluster.reverseCIDRs, cluster.fallthrough),
      answerCache: caches.answer,
      ...(autopath === undefined ? {} : { autopath }),
      instrument,
      tcp: config.tcp,
      tcpEvents: tcpMetrics,
      onError: (err) => log.warn({ err }, "DNS socket error"),
    });
    stops.push(() => server.close());
    boundPort = server.port;
    forwarder.start();

    let shuttingDown = false;
    const reloadMetrics = initial.text === null ? null : new ReloadMetrics(contentHash(initial.text));
    collectDefaultMetrics({ register: registry });
    const side = await startSideServers(config.httpAddress, {
      health: config.healthPort,
      ready: config.readyPort,
      metrics: config.metricsPort,
    }, {
      notReady: () => (shuttingDown ? "shutting down (lameduck)" : store.synced ? null : "not synced with the API server yet"),
      metrics: async () => ({
        text:
          (await registry.metrics()) +
          metrics.exposition() +
          tcpMetrics.exposition(server.tcpConnections) +
          forwarder.exposition() +
          plugins.exposition() +
          udpDropsExposition() +
          (reloadMetrics?.exposition() ?? "") +
          logDroppedExposition(queryLogGate.dropped, errorLog.dropped) +
          (autopath === undefined ? "" : autopathMetrics.exposition(serverLabel())),
        contentType: registry.contentType,
      }),
    });
    stops.push(() => side.close());

    const dns = { host: config.listen.host, port: server.port };
    log.info({ file: config.configFile, config: describeConfig(running) }, "configuration");
    if (reloadMetrics !== null && config.configFile !== null && initial.text !== null) {
      const reload = watchDnsConfig({
        file: config.configFile,
        flags,
        text: initial.text,
        intervalMs: config.configPollMs,
        metrics: reloadMetrics,
        log,
        apply: (next) => {
          const pending = restartOnlyChanges(running, next);
          if (forwardChanged(running, next)) forwarder.replace(next.forward);
          metrics.setZones(metricZones({ ...next, daemon: config }));
          if (pluginsChanged(running.plugins, next.plugins)) void plugins.replace(next.plugins).catch((err: unknown) => log.error({ err }, "hosts, rewrite or loadbalance not reloaded"));
          live.queryLog = next.daemon.queryLog;
          const logSettings = next.daemon.log ?? DEFAULT_LOG_SETTINGS;
          queryLogGate.configure(logSettings);
          errorLog.configure(logSettings);
          running = { daemon: { ...config, queryLog: live.queryLog, log: logSettings }, forward: next.forward, cluster: initial.config.cluster, plugins: next.plugins };
          if (pending.length > 0) log.warn({ file: config.configFile, fields: pending }, "these fields changed in the file and take effect when signpost-dns restarts");
          return running;
        },
      });
      stops.push(() => Promise.resolve(reload.stop()));
    }
    log.info(
      {
        dns: formatListen(dns),
        httpAddress: config.httpAddress,
        ...side.ports,
        zone: config.zone,
        upstreams: running.forward.flatMap((z) => z.upstreams.map((u) => u.address)),
        mode: config.objects === null ? "api" : "objects",
      },
      "listening",
    );
    return {
      dns,
      ports: side.ports,
      store,
      shutdown: async () => {
        shuttingDown = true;
        log.info({ lameduckMs: config.lameduckMs }, "shutting down: /ready fails, answering until lameduck ends");
        await sleep(config.lameduckMs);
        await closeAll();
        log.info("stopped");
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The zones queries are counted by: the cluster zone and every forward zone. */
function metricZones(config: EffectiveDnsConfig): string[] {
  return [config.daemon.zone, ...config.forward.map((z) => z.zone)];
}

/** The two caches as the flags bound them; a size of 0 leaves that one out. */
function createCaches(config: CacheConfig): { forward: ForwardCache | null; answer: AnswerCache | null } {
  return {
    forward: config.forwardBytes === 0 ? null : new ForwardCache({ maxBytes: config.forwardBytes, servfailTtl: config.servfailTtlMs / 1000, ...config.forwardPolicy }),
    answer: config.answerBytes === 0 ? null : new AnswerCache({ maxBytes: config.answerBytes }),
  };
}

/** The kinds signpost-dns reads from an --objects file. */
const dnsObjectKinds: readonly ObjectKind[] = ["Namespace", "Service", "EndpointSlice", "Pod"];

function loadFile(store: RecordStore, path: string, log: Logger, project: (slice: EndpointSlice) => DnsEndpointSlice, built: () => void): void {
  const loaded = readObjectsFile(path, dnsObjectKinds);
  const invalid = loaded.skipped.filter((s) => s.invalid);
  for (const s of invalid) log.warn({ err: s.reason }, "object in --objects file skipped");
  loadStore(store, storeObjects(loaded, project), built);
  log.info(
    {
      file: path,
      namespaces: loaded.namespaces.length,
      services: loaded.services.length,
      endpointSlices: loaded.slices.length,
      pods: loaded.pods.length,
      skipped: Object.fromEntries(skippedKinds(loaded.skipped)),
      invalid: invalid.length,
    },
    "objects loaded: answering offline",
  );
}

async function listenDns(listen: ListenAddress, options: Omit<Parameters<typeof createDnsServer>[0], "address" | "port">): Promise<DnsServer> {
  try {
    return await createDnsServer({ ...options, address: listen.host, port: listen.port });
  } catch (err) {
    const reason = errorMessage(err);
    throw new SignpostError("SP_LISTEN", `--listen ${formatListen(listen)}`, `cannot listen for DNS: ${reason}`, { cause: err });
  }
}
