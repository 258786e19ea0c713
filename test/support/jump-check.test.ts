import { describe, expect, it } from "vitest";
import { checkJumps } from "./jump-check.ts";

describe("checkJumps", () => {
  it("accepts a consistent rule set", () => {
    const text = ["*nat", ":KUBE-A - [0:0]", ":KUBE-B - [0:0]", "-A PREROUTING -j KUBE-A", "-A KUBE-A -j KUBE-B", "-A KUBE-B -j DNAT --to-destination 10.0.0.1:80", "COMMIT", ""].join("\n");
    expect(checkJumps(text)).toEqual([]);
  });

  it("reports undeclared targets, unused chains and jumps to deleted chains", () => {
    const text = ["*nat", ":KUBE-A - [0:0]", ":KUBE-C - [0:0]", ":KUBE-D - [0:0]", "-A PREROUTING -j KUBE-A", "-A KUBE-A -j KUBE-B", "-A KUBE-A -g KUBE-D", "-X KUBE-D", "COMMIT", ""].join("\n");
    expect(checkJumps(text)).toEqual([
      { table: "nat", chain: "KUBE-B", problem: "undeclared", from: "KUBE-A" },
      { table: "nat", chain: "KUBE-D", problem: "undeclared", from: "KUBE-A" },
      { table: "nat", chain: "KUBE-C", problem: "unused" },
    ]);
    expect(checkJumps(text, { allowUnused: new Set(["KUBE-C"]), allowUndeclared: new Set(["KUBE-B", "KUBE-D"]) })).toEqual([]);
  });
});
