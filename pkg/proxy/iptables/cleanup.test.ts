import { describe, expect, it } from "vitest";
import { renderAll } from "../testing/render-harness.ts";
import { overall } from "../testing/scenarios.ts";
import { cleanupRules } from "./cleanup.ts";
import { FakeIptables } from "./fake-iptables.ts";

const guardRule = '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP';

/** A node where the kubelet keeps its localnet guard and another program a chain, then our rules. */
async function node(): Promise<FakeIptables> {
  const iptables = new FakeIptables();
  await iptables.restore(`*nat\n:OTHER - [0:0]\n-A PREROUTING -j OTHER\nCOMMIT\n*filter\n:KUBE-FIREWALL - [0:0]\n${guardRule}\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n`);
  await iptables.restore(renderAll(overall.services, overall.slices, {}, { includeBuiltinJumps: true }).text);
  return iptables;
}

const natLeft = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":OTHER - [0:0]", "-A PREROUTING -j OTHER", "COMMIT", ""];

describe("cleanupRules", () => {
  it("removes our jumps and chains and leaves everything else", async () => {
    const iptables = await node();
    const report = await cleanupRules(iptables, { routeLocalnetOff: () => Promise.resolve(true) });
    // kube-proxy's twelve jumps, ours to the guard from INPUT and OUTPUT, and the kubelet's from INPUT.
    expect(report).toEqual({ jumpsDeleted: 15, chainsDeleted: 28, localnetGuard: "removed" });
    expect(iptables.kernel.save()).toBe(["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", "COMMIT", ...natLeft].join("\n"));
  });

  it("keeps the localnet guard while route_localnet is still on somewhere, or when it cannot tell", async () => {
    for (const routeLocalnetOff of [() => Promise.resolve(false), () => Promise.reject(new Error("read-only /proc/sys")), undefined]) {
      const iptables = await node();
      const report = await cleanupRules(iptables, routeLocalnetOff === undefined ? {} : { routeLocalnetOff });
      expect(report).toEqual({ jumpsDeleted: 12, chainsDeleted: 27, localnetGuard: "kept" });
      const filter = iptables.kernel.save().split("\n*nat")[0] ?? "";
      expect(filter.split("\n").filter((l) => l.startsWith("-A"))).toEqual(["-A INPUT -j KUBE-FIREWALL", "-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL", guardRule]);
    }
  });

  it("never asks about route_localnet for IPv6, which has no guard", async () => {
    const iptables = new FakeIptables("IPv6");
    await iptables.restore(renderAll(overall.services, overall.slices, { family: "IPv6" }, { includeBuiltinJumps: true }).text);
    let asked = false;
    const report = await cleanupRules(iptables, { routeLocalnetOff: () => Promise.resolve((asked = true)) });
    expect(asked).toBe(false);
    expect(report.localnetGuard).toBe("absent");
    expect(iptables.kernel.save()).not.toContain("KUBE-");
  });
});
