// Reading iptables-save text for what a full sync needs to know: whether the canary is intact,
// our per-Service chains, and which jumps from the built-in chains are missing.
import { describe, expect, it } from "vitest";
import { canaryIntactIn, missingBuiltinJumps, serviceChainsIn } from "./kernel-checks.ts";
import { KUBE_PROXY_CANARY } from "./chain-names.ts";
import { builtinJumpLines, builtinJumps, builtinJumpsFor } from "./render-static.ts";

const nat = (lines: readonly string[]): string[] => ["*nat", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ...lines, "COMMIT", ""];
const names = (table: "filter" | "nat", saved: readonly string[]): string[] => missingBuiltinJumps(table, saved).map((j) => `${j.chain} -> ${j.target}`);

describe("canaryIntactIn", () => {
  it("takes the canary chain only with a rule in it, as the periodic check does", () => {
    const rule = `-A ${KUBE_PROXY_CANARY} -m comment --comment "signpost canary: if this rule is gone, the table was flushed" -j RETURN`;
    expect(canaryIntactIn(nat([`:${KUBE_PROXY_CANARY} - [0:0]`, rule]))).toBe(true);
    // kube-proxy's canary is the empty chain; an emptied one is what iptables -F leaves.
    expect(canaryIntactIn(nat([`:${KUBE_PROXY_CANARY} - [0:0]`]))).toBe(false);
    expect(canaryIntactIn(nat([]))).toBe(false);
    expect(canaryIntactIn(nat([`-A ${KUBE_PROXY_CANARY}-X -j RETURN`]))).toBe(false);
  });
});

describe("missingBuiltinJumps", () => {
  it("finds every jump missing in an empty table, and none once all are there", () => {
    expect(names("nat", nat([]))).toEqual(["PREROUTING -> KUBE-SERVICES", "OUTPUT -> KUBE-SERVICES", "POSTROUTING -> KUBE-POSTROUTING"]);
    expect(names("nat", nat(builtinJumpLines("nat")))).toEqual([]);
    expect(missingBuiltinJumps("filter", ["*filter", ...builtinJumpLines("filter"), "COMMIT"])).toEqual([]);
    expect(missingBuiltinJumps("filter", ["*filter", "COMMIT", ""])).toHaveLength(builtinJumps.filter((j) => j.table === "filter").length);
  });

  it("counts a jump wherever it stands in its chain, among other rules", () => {
    const saved = nat([
      "-A PREROUTING -j CNI-HOSTPORT",
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ]);
    expect(names("nat", saved)).toEqual(["POSTROUTING -> KUBE-POSTROUTING"]);
  });

  it("does not take a rule in another chain, to another target or without the comment for the jump", () => {
    const saved = nat([
      '-A OUTPUT -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-NODEPORTS',
      "-A POSTROUTING -j KUBE-POSTROUTING",
    ]);
    expect(names("nat", saved)).toEqual(["PREROUTING -> KUBE-SERVICES", "OUTPUT -> KUBE-SERVICES", "POSTROUTING -> KUBE-POSTROUTING"]);
  });
});

describe("missingBuiltinJumps, with the localnet guard's", () => {
  const guarded = builtinJumpsFor({ family: "IPv4", localhostNodePorts: true });
  const filterNames = (saved: readonly string[]): string[] => missingBuiltinJumps("filter", ["*filter", ...saved, "COMMIT"], guarded).map((j) => `${j.chain} -> ${j.target}`);

  it("takes the kubelet's bare jumps as ours, and only those", () => {
    const kube = builtinJumpLines("filter");
    expect(filterNames(kube)).toEqual(["INPUT -> KUBE-FIREWALL", "OUTPUT -> KUBE-FIREWALL"]);
    expect(filterNames([...kube, "-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL"])).toEqual([]);
    // A jump that matches anything narrower than every packet is not the guard's.
    expect(filterNames([...kube, "-A INPUT -i eth0 -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL"])).toEqual(["INPUT -> KUBE-FIREWALL"]);
  });

  it("wants none for IPv6 or without localhost node ports", () => {
    expect(builtinJumpsFor({ family: "IPv6", localhostNodePorts: true })).toBe(builtinJumps);
    expect(builtinJumpsFor({ family: "IPv4", localhostNodePorts: false })).toBe(builtinJumps);
  });
});

describe("serviceChainsIn", () => {
  it("lists our per-Service chains and nothing else", () => {
    const saved = nat([":KUBE-SVC-62EYKAZJ5JYQHUXG - [0:0]", ":KUBE-SEP-HSDE34CO7HSHDHTL - [0:0]", ":KUBE-SERVICES - [0:0]", ":OTHER - [0:0]", "-A KUBE-SVC-62EYKAZJ5JYQHUXG -j KUBE-SEP-HSDE34CO7HSHDHTL"]);
    expect([...serviceChainsIn(saved)].sort()).toEqual(["KUBE-SEP-HSDE34CO7HSHDHTL", "KUBE-SVC-62EYKAZJ5JYQHUXG"]);
  });
});
