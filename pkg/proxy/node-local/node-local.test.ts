import { describe, expect, it } from "vitest";
import { makeEndpoint, makePort, makeService, makeSlice } from "../testing/model-builders.ts";
import { memoryLogger } from "../testing/test-logger.ts";
import type { Iptables, IptablesCapabilities } from "../iptables/iptables.ts";
import type { TableName } from "../iptables/restore-parser.ts";
import { localSliceSelector, parseNodeLocalReplicas } from "./node-local-option.ts";
import { steeringFor } from "./local-steering.ts";
import { NODE_LOCAL_CHAIN, NODE_LOCAL_OUTPUT_CHAIN, renderNotrack } from "./notrack-render.ts";
import { NodeLocalSteering } from "./node-local-steering.ts";
import { eventually } from "../../../test/support/eventually.ts";

const replica = parseNodeLocalReplicas("kube-system/kube-dns=signpost-dns-node-local")[0];
if (replica === undefined) throw new Error("no replica");
const dnsPorts = [makePort("dns", 53, "UDP"), makePort("dns-tcp", 53, "TCP"), makePort("metrics", 9153, "TCP")];
const kubeDns = makeService("kube-system", "kube-dns", { clusterIPs: ["10.96.0.10"], ports: dnsPorts });
const localPorts = [
  { name: "dns", protocol: "UDP" as const, port: 53 },
  { name: "dns-tcp", protocol: "TCP" as const, port: 53 },
];
const localSlice = (nodeName: string, ready = true, terminating = false) =>
  makeSlice("kube-system", "signpost-dns-node-local", [makeEndpoint("192.168.0.2", { nodeName, ready, serving: true, terminating })], { ports: localPorts });

describe("--node-local-replica", () => {
  it("reads NAMESPACE/SERVICE=LOCAL entries and selects the local slices by name", () => {
    const r = parseNodeLocalReplicas("kube-system/kube-dns=dns-local, default/cache=cache-local");
    expect(r).toEqual([
      { service: "kube-system/kube-dns", namespace: "kube-system", localService: "dns-local" },
      { service: "default/cache", namespace: "default", localService: "cache-local" },
    ]);
    expect(localSliceSelector(r)).toBe("kubernetes.io/service-name in (cache-local,dns-local)");
    expect(parseNodeLocalReplicas("")).toEqual([]);
  });

  it.each([
    ["kube-dns=local", "is not NAMESPACE/SERVICE=LOCAL_SERVICE"],
    ["kube-system/kube-dns", "is not NAMESPACE/SERVICE=LOCAL_SERVICE"],
    ["kube-system/Kube_DNS=local", "is not a Service name"],
    ["kube-system/kube-dns=kube-dns", "another (headless) Service"],
    ["a/b=c,a/b=d", "named twice"],
  ])("refuses %s, naming the flag", (text, message) => {
    expect(() => parseNodeLocalReplicas(text)).toThrow(/SP_BAD_FLAG: --node-local-replica: .*/);
    expect(() => parseNodeLocalReplicas(text)).toThrow(message);
  });
});

describe("steeringFor", () => {
  const input = { replica, service: kubeDns, nodeName: "node-a", family: "IPv4" as const };

  it("steers the ClusterIP ports the local Service also serves, while its endpoint here is ready", () => {
    expect(steeringFor({ ...input, localSlices: [localSlice("node-a")] })).toEqual({
      service: "kube-system/kube-dns",
      clusterIP: "10.96.0.10",
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    });
  });

  it("steers nothing when the ready replica is on another node, or this node's is not ready or terminating", () => {
    expect(steeringFor({ ...input, localSlices: [localSlice("node-b")] })).toBeNull();
    expect(steeringFor({ ...input, localSlices: [localSlice("node-a", false)] })).toBeNull();
    expect(steeringFor({ ...input, localSlices: [localSlice("node-a", true, true)] })).toBeNull();
    expect(steeringFor({ ...input, localSlices: [] })).toBeNull();
  });

  it("steers nothing without the Service or a ClusterIP of the family", () => {
    expect(steeringFor({ ...input, service: null, localSlices: [localSlice("node-a")] })).toBeNull();
    expect(steeringFor({ ...input, family: "IPv6", localSlices: [localSlice("node-a")] })).toBeNull();
  });
});

describe("renderNotrack", () => {
  it("rewrites both chains whole: pods' queries untracked while the replica's socket is bound, the node's own and the answers always; only the hooks asked for", () => {
    const text = renderNotrack([{ service: "kube-system/kube-dns", clusterIP: "10.96.0.10", ports: [{ protocol: "UDP", port: 53 }] }], ["OUTPUT"]);
    const note = '-m comment --comment "kube-system/kube-dns:udp/53 to the node-local replica"';
    expect(text).toBe(
      [
        "*raw",
        `:${NODE_LOCAL_CHAIN} - [0:0]`,
        `:${NODE_LOCAL_OUTPUT_CHAIN} - [0:0]`,
        `-I OUTPUT 1 -m comment --comment "signpost node-local replicas" -j ${NODE_LOCAL_OUTPUT_CHAIN}`,
        `-A ${NODE_LOCAL_CHAIN} -d 10.96.0.10 -p udp -m udp --dport 53 -m socket --nowildcard ${note} -j NOTRACK`,
        `-A ${NODE_LOCAL_OUTPUT_CHAIN} -d 10.96.0.10 -p udp -m udp --dport 53 ${note} -j NOTRACK`,
        `-A ${NODE_LOCAL_OUTPUT_CHAIN} -s 10.96.0.10 -p udp -m udp --sport 53 ${note} -j NOTRACK`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  });
});

/**
 * The raw table only, as iptables-restore --noflush keeps it: a declared chain is flushed, -A
 * appends, -I CHAIN 1 prepends. (FakeIptables' parser models the nat and filter targets the
 * renderer writes, not NOTRACK.)
 */
class RawTableRecorder implements Iptables {
  readonly family = "IPv4" as const;
  readonly chains = new Map<string, string[]>([
    ["PREROUTING", []],
    ["OUTPUT", []],
  ]);
  async restore(text: string): Promise<void> {
    await Promise.resolve();
    for (const line of text.split("\n")) {
      const words = line.split(" ");
      const chain = words[1] ?? "";
      if (line.startsWith(":")) this.chains.set(line.slice(1).split(" ")[0] ?? "", []);
      else if (line.startsWith("-A ")) this.chains.get(chain)?.push(`-A ${chain} ${words.slice(2).join(" ")}`);
      else if (line.startsWith("-I ")) this.chains.get(chain)?.unshift(`-A ${chain} ${words.slice(3).join(" ")}`);
    }
  }
  async chainRules(table: TableName, chain: string): Promise<string[] | null> {
    await Promise.resolve();
    if (table !== "raw") throw new Error(`only raw, not ${table}`);
    return this.chains.get(chain) ?? null;
  }
  flush(): void {
    for (const rules of this.chains.values()) rules.length = 0;
  }
  save(): Promise<string> {
    throw new Error("not used");
  }
  deleteRule(): Promise<boolean> {
    throw new Error("not used");
  }
  capabilities(): Promise<IptablesCapabilities> {
    throw new Error("not used");
  }
}

describe("NodeLocalSteering", () => {
  it("writes NOTRACK when this node's replica becomes ready, empties the chain when it stops, and restores a flushed table", async () => {
    const ipt = new RawTableRecorder();
    const { log } = memoryLogger();
    const steering = new NodeLocalSteering({ replicas: [replica], nodeName: "node-a", iptables: [ipt], log, recheckMs: 100 });
    steering.onService(null, kubeDns);
    steering.start();
    const rules = async (): Promise<number> => ((await ipt.chainRules("raw", NODE_LOCAL_CHAIN))?.length ?? 0) + ((await ipt.chainRules("raw", NODE_LOCAL_OUTPUT_CHAIN))?.length ?? 0);
    await eventually(async () => (await ipt.chainRules("raw", "OUTPUT"))?.some((r) => r.endsWith(`-j ${NODE_LOCAL_OUTPUT_CHAIN}`)) === true, "the hooks");
    expect(await ipt.chainRules("raw", "PREROUTING")).toEqual([`-A PREROUTING -m comment --comment "signpost node-local replicas" -j ${NODE_LOCAL_CHAIN}`]);
    expect(await rules()).toBe(0);

    steering.onLocalSlice(null, localSlice("node-a"));
    // UDP and TCP: one rule each from pods, two each (queries, answers) in OUTPUT.
    await eventually(async () => (await rules()) === 6, "six NOTRACK rules");

    // Someone flushes the raw table: the periodic check puts hooks and rules back.
    ipt.flush();
    await eventually(async () => (await rules()) === 6 && ipt.chains.get("PREROUTING")?.length === 1 && ipt.chains.get("OUTPUT")?.length === 1, "the flushed rules restored");

    steering.onLocalSlice(localSlice("node-a"), localSlice("node-a", false, true));
    await eventually(async () => (await rules()) === 0, "the chains emptied");
    await steering.stop();
  });
});
