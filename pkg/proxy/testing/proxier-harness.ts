// A Proxier on the in-memory kernel, as the tests drive it: the real proxier with its injected
// parts faked (iptables, conntrack, clock, logger, metrics registry) and handed back for the test
// to look at. The node is node1 at 192.168.0.2, the cluster CIDR 10.0.0.0/8.
import { Registry } from "prom-client";
import type { ConntrackDeletion, ConntrackFlow } from "../conntrack-cleanup.ts";
import { FakeClock } from "../../../test/support/fake-clock.ts";
import { ProxyHealth } from "../health/proxy-health.ts";
import { FakeIptables } from "../iptables/fake-iptables.ts";
import { Proxier } from "../proxier.ts";
import { proxyMetrics } from "../proxy-metrics.ts";
import { defaultProxySettings } from "../proxy-settings.ts";
import { makeNode } from "./model-builders.ts";
import { memoryLogger } from "./test-logger.ts";

export const harnessNode = makeNode("node1", { addresses: [{ type: "InternalIP", address: "192.168.0.2" }] });

export function proxierOnFakeKernel(stageBatchServices?: number) {
  const clock = new FakeClock();
  const iptables = new FakeIptables();
  const registry = new Registry();
  const { log, lines } = memoryLogger();
  const health = new ProxyHealth(clock, 60_000);
  const deleted: ConntrackDeletion[] = [];
  /** The kernel's UDP flows, as the first sync after a start reads them. */
  const kernelFlows: ConntrackFlow[] = [];
  const programmed: number[] = [];
  /** For each call of afterFullSync, how many syncs had programmed the kernel by then. */
  const settled: number[] = [];
  const proxier = new Proxier({
    family: "IPv4",
    nodeName: "node1",
    settings: { ...defaultProxySettings, clusterCIDRs: ["10.0.0.0/8"] },
    iptables,
    conntrack: {
      list: () => Promise.resolve(kernelFlows),
      delete: async (ds) => {
        await Promise.resolve();
        deleted.push(...ds);
        return [{ deletions: ds, deleted: ds.length }];
      },
    },
    log,
    metrics: proxyMetrics(registry),
    health,
    clock,
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
    onProgrammed: (state) => programmed.push(state.size),
    afterFullSync: () => settled.push(programmed.length),
    ...(stageBatchServices === undefined ? {} : { stageBatchServices }),
  });
  proxier.setNode(harnessNode);
  return { clock, iptables, registry, lines, health, deleted, kernelFlows, programmed, settled, proxier };
}
