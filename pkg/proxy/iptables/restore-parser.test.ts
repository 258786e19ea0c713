import { describe, expect, it } from "vitest";
import { parseRestore, parseRuleWords, RestoreParseError, tokenize } from "./restore-parser.ts";

describe("tokenize", () => {
  it("keeps quoted words whole and unescapes inside quotes", () => {
    expect(tokenize('-A X -m comment --comment "a b \\"c\\"" -j Y')).toEqual(["-A", "X", "-m", "comment", "--comment", 'a b "c"', "-j", "Y"]);
    expect(tokenize('--comment ""')).toEqual(["--comment", ""]);
  });

  it("refuses an unterminated quote", () => {
    expect(() => tokenize('--comment "oops', 7)).toThrow(RestoreParseError);
  });
});

describe("parseRuleWords", () => {
  const parse = (text: string) => parseRuleWords("C", tokenize(text), text);

  it("parses the matches and targets signpost writes", () => {
    const r = parse('-m comment --comment "ns/svc:p cluster IP" -m tcp -p tcp -d 172.30.0.1 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ');
    expect(r.matches).toEqual([
      { kind: "comment", text: "ns/svc:p cluster IP" },
      { kind: "protocol", protocol: "tcp", negate: false },
      { kind: "destination", cidr: "172.30.0.1", negate: false },
      { kind: "dport", port: 80, negate: false },
      { kind: "source", cidr: "10.0.0.0/8", negate: true },
    ]);
    expect(r.target).toEqual({ kind: "jump", chain: "KUBE-MARK-MASQ" });
  });

  it("parses affinity, statistic, mark and DNAT", () => {
    expect(parse("-m recent --name KUBE-SEP-X --rcheck --seconds 10800 --reap -j KUBE-SEP-X").matches).toEqual([
      { kind: "recent", name: "KUBE-SEP-X", mode: "rcheck", seconds: 10800 },
    ]);
    expect(parse("-m statistic --mode random --probability 0.3333333333 -j S").matches).toEqual([{ kind: "statistic", probability: 0.3333333333 }]);
    expect(parse("-m mark ! --mark 0x4000/0x4000 -j RETURN").matches).toEqual([{ kind: "mark", value: 0x4000, mask: 0x4000, negate: true }]);
    expect(parse("-j MARK --or-mark 0x4000").target).toEqual({ kind: "mark", op: "or", value: 0x4000, mask: 0xffffffff });
    expect(parse("-m tcp -p tcp -j DNAT --to-destination [fd00::1]:80").target).toEqual({ kind: "dnat", to: "[fd00::1]:80" });
    expect(parse("-j MASQUERADE --random-fully").target).toEqual({ kind: "masquerade", randomFully: true });
    expect(parse('-m comment --comment "no target"').target).toBeNull();
  });

  it("refuses what it does not understand", () => {
    expect(() => parse("--weird 1")).toThrow(/unsupported option --weird/);
    expect(() => parse("-j SNAT --to-source 1.2.3.4")).toThrow(/unsupported target SNAT/);
    expect(() => parse("-s")).toThrow(/missing value/);
    expect(() => parse("! ")).toThrow(/dangling/);
  });
});

describe("parseRestore", () => {
  it("splits tables and operations and keeps each rule's text", () => {
    const sections = parseRestore(
      ["# comment", "*nat", ":KUBE-A - [0:0]", "-A KUBE-A -j RETURN", "-I KUBE-A 1 -j RETURN", "-X KUBE-B", "COMMIT", "*filter", "-F INPUT", "COMMIT", ""].join("\n"),
    );
    expect(sections.map((s) => [s.table, s.operations.map((o) => o.op)])).toEqual([
      ["nat", ["chain", "append", "insert", "delete-chain"]],
      ["filter", ["flush"]],
    ]);
    const append = sections[0]?.operations[1];
    expect(append?.op === "append" ? append.rule.spec : null).toBe("-j RETURN");
  });

  it("refuses a table without COMMIT, a line outside a table and unknown tables", () => {
    expect(() => parseRestore("*nat\n:A - [0:0]\n")).toThrow(/missing COMMIT/);
    expect(() => parseRestore("-A X -j RETURN\n")).toThrow(/outside a table/);
    expect(() => parseRestore("*bogus\nCOMMIT\n")).toThrow(/unknown table/);
  });
});
