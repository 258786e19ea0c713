// signpost-proxy's /healthz against the real API server while its Node goes away (KEP-3836): the
// cluster autoscaler's ToBeDeletedByClusterAutoscaler taint, then a deletion held open by a
// finalizer, then the Node gone. /healthz turns 503 with kube-proxy's body, "nodeEligible": false,
// so load balancers drain the node; /livez stays 200, so nothing restarts the proxy.
import { randomBytes } from "node:crypto";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clients } from "../support/kube.ts";
import { eventually } from "../support/eventually.ts";
import { NetNs } from "../support/netns.ts";
import { ProxyDaemon } from "../support/proxy-daemon.ts";
import { createNode } from "../support/proxy-objects.ts";
import { nodeIP } from "../support/proxy-topology.ts";

const kubeconfig = inject("kubeconfig");
const c = clients(kubeconfig);
const nodeName = `px-drain-${randomBytes(3).toString("hex")}`;
const finalizer = "signpost.test/hold";
const autoscalerTaint = { key: "ToBeDeletedByClusterAutoscaler", value: "1718000000", effect: "NoSchedule" };

let node: NetNs;
let daemon: ProxyDaemon;

beforeAll(async () => {
  await createNode(c.core, nodeName, nodeIP);
  node = await NetNs.create("pxh-node");
  daemon = await ProxyDaemon.start({ kubeconfig, nodeName, netns: node.name, extraArgs: ["--min-sync-period", "100ms", "--sync-period", "2s"] });
  await daemon.waitForLog((l) => l["msg"] === "rules synced", "the first sync");
});

afterAll(async () => {
  await daemon?.stop();
  await node?.destroy();
  await patchNode({ metadata: { finalizers: null } }).catch(() => undefined);
  await c.core.deleteNode({ name: nodeName }).catch(() => undefined);
});

function patchNode(patch: object): Promise<unknown> {
  return c.core.patchNode({ name: nodeName, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
}

async function healthz(): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await daemon.get(daemon.healthzPort, "/healthz");
  return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
}

async function eligibleBecomes(eligible: boolean, why: string): Promise<void> {
  await eventually(async () => (await healthz()).status === (eligible ? 200 : 503), why);
  const r = await healthz();
  expect(r.body).toMatchObject({ nodeEligible: eligible });
  expect(Object.keys(r.body)).toEqual(["lastUpdated", "currentTime", "nodeEligible"]);
  expect((await daemon.get(daemon.healthzPort, "/livez")).status).toBe(200);
}

describe("signpost-proxy /healthz while its Node is removed", () => {
  it("fails /healthz for the autoscaler's taint, a pending deletion and a deleted Node, and keeps /livez healthy", async () => {
    await eligibleBecomes(true, "healthy at first");

    await patchNode({ spec: { taints: [autoscalerTaint] } });
    await eligibleBecomes(false, "503 for the ToBeDeletedByClusterAutoscaler taint");
    await patchNode({ spec: { taints: [{ key: "dedicated", value: "proxy", effect: "NoSchedule" }] } });
    await eligibleBecomes(true, "200 once the taint is replaced by another");

    await patchNode({ metadata: { finalizers: [finalizer] } });
    await c.core.deleteNode({ name: nodeName });
    const deleting = await c.core.readNode({ name: nodeName });
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    await eligibleBecomes(false, "503 while the Node is being deleted");

    await patchNode({ metadata: { finalizers: null } });
    await eventually(async () => (await c.core.readNode({ name: nodeName }).then(() => false, () => true)), "the Node is gone");
    await eligibleBecomes(false, "503 once the Node is gone");
  });
});
