import { describe, expect, it } from "vitest";
import type { TracePacket } from "./packet-tracer.ts";
import { traceRestore } from "./packet-tracer.ts";

const node = "192.168.0.2";
const packet = (o: Partial<TracePacket> = {}): TracePacket => ({
  src: "10.0.0.5",
  dst: "172.30.0.1",
  dport: 80,
  protocol: "TCP",
  isLocalAddress: (ip) => ip === node,
  ...o,
});

const rules = (nat: string[], filter: string[] = []) =>
  ["*filter", ...filter, "COMMIT", "*nat", ...nat, "COMMIT", ""].join("\n");

describe("tracePacket", () => {
  const spread = rules([
    ":SVC - [0:0]",
    ":MASQ - [0:0]",
    "-A PREROUTING -j SVC",
    "-A OUTPUT -j SVC",
    "-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE",
    "-A MASQ -j MARK --or-mark 0x4000",
    "-A SVC -d 172.30.0.1/32 -p tcp -m tcp --dport 80 ! -s 10.0.0.0/8 -j MASQ",
    "-A SVC -d 172.30.0.1 -m tcp -p tcp --dport 80 -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.1.0.1:8080",
    "-A SVC -d 172.30.0.1 -m tcp -p tcp --dport 80 -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.1.0.2:8080",
    "-A SVC -d 172.30.0.1 -m tcp -p tcp --dport 80 -j DNAT --to-destination 10.1.0.3:8080",
  ]);

  it("forks on random picks and gives each endpoint its share", () => {
    const r = traceRestore(spread, packet());
    expect(r.verdict).toBe("DNAT");
    expect(r.endpoints).toEqual(["10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.3:8080"]);
    for (const p of r.paths) expect(p.probability).toBeCloseTo(1 / 3, 6);
    expect(r.masqueraded).toBe(false);
    expect(r.chains).toEqual(["nat/PREROUTING", "nat/SVC", "filter/FORWARD", "nat/POSTROUTING"]);
  });

  it("follows marks into POSTROUTING", () => {
    const r = traceRestore(spread, packet({ src: "203.0.113.9" }));
    expect(r.masqueraded).toBe(true);
    expect(r.paths.every((p) => p.masqueraded)).toBe(true);
  });

  it("starts in nat OUTPUT for the node's own traffic", () => {
    const r = traceRestore(spread, packet({ src: node }));
    expect(r.chains[0]).toBe("nat/OUTPUT");
    expect(r.masqueraded).toBe(true);
  });

  it("reports no match for traffic no rule touches", () => {
    const r = traceRestore(spread, packet({ dst: "8.8.8.8" }));
    expect(r.verdict).toBe("NO_MATCH");
    expect(r.endpoints).toEqual([]);
  });

  it("honours RETURN, goto and a DROP policy", () => {
    const text = rules(
      [":A - [0:0]", ":B - [0:0]", "-A PREROUTING -j A", "-A A -g B", "-A A -j DNAT --to-destination 10.9.9.9:1", "-A B -j RETURN"],
      [":FORWARD DROP [0:0]"],
    );
    const r = traceRestore(text, packet());
    // goto B then RETURN goes back to PREROUTING, skipping the rest of A; FORWARD drops.
    expect(r.endpoints).toEqual([]);
    expect(r.verdict).toBe("DROP");
  });

  it("reports the filter rule that rejects", () => {
    const text = rules([], [":KUBE-SERVICES - [0:0]", "-A OUTPUT -j KUBE-SERVICES", "-A FORWARD -j KUBE-SERVICES", '-A KUBE-SERVICES -m comment --comment "x has no endpoints" -d 172.30.0.1 -j REJECT']);
    const r = traceRestore(text, packet());
    expect(r.verdict).toBe("REJECT");
    expect(r.paths[0]?.decidedBy).toBe('filter/KUBE-SERVICES -m comment --comment "x has no endpoints" -d 172.30.0.1 -j REJECT');
  });

  it("checks recent lists for affinity and records the lists a connection sets", () => {
    const text = rules([
      ":SVC - [0:0]",
      ":SEP1 - [0:0]",
      ":SEP2 - [0:0]",
      "-A PREROUTING -j SVC",
      "-A SVC -m recent --name SEP1 --rcheck --seconds 60 --reap -j SEP1",
      "-A SVC -m recent --name SEP2 --rcheck --seconds 60 --reap -j SEP2",
      "-A SVC -m statistic --mode random --probability 0.5 -j SEP1",
      "-A SVC -j SEP2",
      "-A SEP1 -m recent --name SEP1 --set -m tcp -p tcp -j DNAT --to-destination 10.1.0.1:80",
      "-A SEP2 -m recent --name SEP2 --set -m tcp -p tcp -j DNAT --to-destination 10.1.0.2:80",
    ]);
    const first = traceRestore(text, packet());
    expect(first.paths.map((p) => [p.destination, p.recentSet])).toEqual([
      ["10.1.0.1:80", ["SEP1"]],
      ["10.1.0.2:80", ["SEP2"]],
    ]);
    const again = traceRestore(text, packet({ recent: new Map([["SEP2", new Set(["10.0.0.5"])]]) }));
    expect(again.endpoints).toEqual(["10.1.0.2:80"]);
    expect(again.paths).toHaveLength(1);
  });
});
