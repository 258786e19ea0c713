import { describe, expect, it } from "vitest";
import type { LostNodePorts, NodePortClaim } from "./node-port-conflicts.ts";
import { lostNodePorts, lostNodePortsChanged, nodePortOwner } from "./node-port-conflicts.ts";
import { makePort, makeService } from "./testing/model-builders.ts";

const svc = (ns: string, name: string, createdAtMs: number, ...ports: ReturnType<typeof makePort>[]) => makeService(ns, name, { type: "NodePort", createdAtMs, ports });

describe("lostNodePorts", () => {
  it("gives a node port claimed twice to the older Service, whatever the order they come in", () => {
    const old = svc("zz", "old", 1000, makePort("a", 80, "TCP", 30080), makePort("b", 81, "TCP", 30081));
    const young = svc("aa", "young", 2000, makePort("a", 80, "TCP", 30080));
    for (const order of [[old, young], [young, old]]) {
      expect(lostNodePorts(order)).toEqual(new Map([["aa/young", new Set(["TCP/30080"])]]));
    }
    expect(nodePortOwner([young, old], "TCP/30080")).toBe("zz/old");
  });

  it("breaks a tie of creation times by namespace/name, and counts the protocol as part of the claim", () => {
    const a = svc("ns", "a", 5, makePort("p", 53, "UDP", 30053));
    const b = svc("ns", "b", 5, makePort("p", 53, "UDP", 30053), makePort("q", 53, "TCP", 30054));
    const c = svc("ns", "c", 1, makePort("q", 53, "TCP", 30053));
    expect(lostNodePorts([c, b, a])).toEqual(new Map([["ns/b", new Set(["UDP/30053"])]]));
  });

  it("names the Services whose lost ports changed", () => {
    const lost = (entries: [string, NodePortClaim][]): LostNodePorts => new Map(entries.map(([k, c]) => [k, new Set([c])]));
    const before = lost([["ns/b", "TCP/30080"], ["ns/c", "TCP/30081"]]);
    const after = lost([["ns/c", "TCP/30081"], ["ns/d", "TCP/30082"]]);
    expect(lostNodePortsChanged(before, after)).toEqual(["ns/b", "ns/d"]);
  });
});
