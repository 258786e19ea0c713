import { describe, expect, it } from "vitest";
import { IptablesState, RestoreError } from "./iptables-state.ts";

const nat = (...lines: string[]) => ["*nat", ...lines, "COMMIT", ""].join("\n");

describe("IptablesState", () => {
  it("creates chains and appends rules", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]", ":KUBE-B - [0:0]", "-A KUBE-A -j KUBE-B", "-A PREROUTING -j KUBE-A"));
    expect(s.chains("nat")).toEqual(["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "KUBE-A", "KUBE-B"]);
    expect(s.rules("nat", "KUBE-A").map((r) => r.spec)).toEqual(["-j KUBE-B"]);
  });

  it("with --noflush keeps unnamed chains and flushes named ones", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]", ":KUBE-B - [0:0]", "-A KUBE-A -j RETURN", "-A KUBE-B -j RETURN", "-A PREROUTING -j KUBE-A"));
    s.restore(nat(":KUBE-A - [0:0]", "-A KUBE-A -j KUBE-B"), { noflush: true });
    expect(s.rules("nat", "KUBE-A").map((r) => r.spec)).toEqual(["-j KUBE-B"]);
    expect(s.rules("nat", "KUBE-B").map((r) => r.spec)).toEqual(["-j RETURN"]);
    expect(s.rules("nat", "PREROUTING")).toHaveLength(1);
  });

  it("without --noflush replaces the whole table", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]", "-A PREROUTING -j KUBE-A"));
    s.restore(nat(":KUBE-B - [0:0]"), { noflush: false });
    expect(s.hasChain("nat", "KUBE-A")).toBe(false);
    expect(s.rules("nat", "PREROUTING")).toEqual([]);
  });

  it("refuses a jump to a missing chain and leaves the table untouched", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]"));
    expect(() => s.restore(nat(":KUBE-B - [0:0]", "-A KUBE-A -j KUBE-NOPE"))).toThrow(RestoreError);
    expect(s.hasChain("nat", "KUBE-B")).toBe(false);
  });

  it("refuses to delete a chain that is still referenced", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]", ":KUBE-B - [0:0]", "-A KUBE-A -j KUBE-B"));
    expect(() => s.restore(nat(":KUBE-B - [0:0]", "-X KUBE-B"))).toThrow(/still referenced/);
    s.restore(nat(":KUBE-A - [0:0]", ":KUBE-B - [0:0]", "-X KUBE-B"));
    expect(s.hasChain("nat", "KUBE-B")).toBe(false);
  });

  it("refuses to delete a chain with rules", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]", "-A KUBE-A -j RETURN"));
    expect(() => s.restore(nat("-X KUBE-A"))).toThrow(/not empty/);
  });

  it("inserts at a position and saves in a stable order", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]", "-A KUBE-A -j RETURN", "-I KUBE-A 1 -m comment --comment \"first\" -j RETURN"));
    expect(s.save(["nat"])).toBe(
      ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":KUBE-A - [0:0]",
        '-A KUBE-A -m comment --comment "first" -j RETURN', "-A KUBE-A -j RETURN", "COMMIT", ""].join("\n"),
    );
  });

  it("flushes a table on request, as a foreign iptables -F -X would", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]"));
    s.flushTable("nat");
    expect(s.hasChain("nat", "KUBE-A")).toBe(false);
  });

  it("empties every chain and keeps them all on flushRules, as iptables -F", () => {
    const s = new IptablesState();
    s.restore(nat(":KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n-A PREROUTING -j KUBE-A"));
    s.flushRules("nat");
    expect(s.hasChain("nat", "KUBE-A")).toBe(true);
    expect(s.rules("nat", "KUBE-A")).toEqual([]);
    expect(s.rules("nat", "PREROUTING")).toEqual([]);
  });
});
