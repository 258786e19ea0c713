import { describe, expect, it } from "vitest";
import { renderAll } from "../testing/render-harness.ts";
import { overall } from "../testing/scenarios.ts";
import { cleanupRules } from "./cleanup.ts";
import { FakeIptables } from "./fake-iptables.ts";

describe("cleanupRules", () => {
  it("removes our jumps and chains and leaves everything else", async () => {
    const iptables = new FakeIptables();
    await iptables.restore("*nat\n:OTHER - [0:0]\n-A PREROUTING -j OTHER\nCOMMIT\n*filter\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n");
    await iptables.restore(renderAll(overall.services, overall.slices, {}, { includeBuiltinJumps: true }).text);
    const report = await cleanupRules(iptables);
    expect(report.jumpsDeleted).toBe(12);
    expect(iptables.kernel.save()).toBe(
      [
        "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":KUBE-FIREWALL - [0:0]", "-A INPUT -j KUBE-FIREWALL", "COMMIT",
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":OTHER - [0:0]", "-A PREROUTING -j OTHER", "COMMIT", "",
      ].join("\n"),
    );
  });
});
