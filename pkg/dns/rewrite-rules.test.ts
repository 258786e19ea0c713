import { describe, expect, it } from "vitest";
import { parseRewriteRules } from "./config/rewrite-config.ts";
import { revertName, rewriteName } from "./rewrite-rules.ts";

const rules = (list: unknown[]) => parseRewriteRules(list, "rewrite");

describe("rewrite name rules", () => {
  it("matches exact, prefix, suffix, substring and regex as CoreDNS does, on the name with its trailing dot", () => {
    expect(rewriteName(rules([{ from: "db.example.corp", to: "db.prod.svc.cluster.local" }]), "db.example.corp")?.name).toBe("db.prod.svc.cluster.local");
    expect(rewriteName(rules([{ from: "db.example.corp.", to: "x" }]), "db2.example.corp")).toBeNull();
    expect(rewriteName(rules([{ match: "prefix", from: "legacy-", to: "" }]), "legacy-web.example.corp")?.name).toBe("web.example.corp");
    expect(rewriteName(rules([{ match: "suffix", from: ".example.corp", to: ".svc.cluster.local." }]), "web.prod.example.corp")?.name).toBe("web.prod.svc.cluster.local");
    expect(rewriteName(rules([{ match: "substring", from: "us-west-1", to: "default" }]), "ftp.us-west-1.svc.cluster.local")?.name).toBe("ftp.default.svc.cluster.local");
    expect(rewriteName(rules([{ match: "regex", from: "^(.*)-(us-west-1)\\.example\\.org\\.$", to: "{1}.service.{2}.consul" }]), "ftp-us-west-1.example.org")?.name).toBe("ftp.service.us-west-1.consul");
    expect(rewriteName(rules([{ match: "regex", from: "^nomatch\\.$", to: "x" }]), "ftp.example.org")).toBeNull();
  });

  it("stops at the first rule that matches unless it says continue", () => {
    const list = [
      { match: "suffix", from: "example.corp", to: "corp.internal" },
      { match: "prefix", from: "web.", to: "www." },
    ];
    expect(rewriteName(rules(list), "web.example.corp")?.name).toBe("web.corp.internal");
    expect(rewriteName(rules([{ ...list[0], continue: true }, list[1]]), "web.example.corp")?.name).toBe("www.corp.internal");
  });

  it("gives answer names back: the rewritten name as asked, others by the rules' answer expressions", () => {
    const [rule] = rules([{ match: "regex", from: "^(.*)-(us-west-1)\\.example\\.org\\.$", to: "{1}.service.{2}.consul", answer: { from: "^(.*)\\.service\\.(us-west-1)\\.consul\\.$", to: "{1}-{2}.example.org" } }]);
    const rewrite = rewriteName(rule === undefined ? [] : [rule], "ftp-us-west-1.example.org");
    if (rewrite === null) throw new Error("no rewrite");
    expect(revertName("ftp.service.us-west-1.consul", "ftp-us-west-1.example.org", rewrite)).toBe("ftp-us-west-1.example.org");
    expect(revertName("www.service.us-west-1.consul", "ftp-us-west-1.example.org", rewrite)).toBe("www-us-west-1.example.org");
    expect(revertName("cdn.example.net", "ftp-us-west-1.example.org", rewrite)).toBe("cdn.example.net");
  });

  it("refuses a bad regular expression and a bad match by their fields", () => {
    expect(() => rules([{ match: "regex", from: "(unclosed", to: "x" }])).toThrow(/^SP_BAD_CONFIG: rewrite\[0\]\.from: "\(unclosed" is not a regular expression/);
    expect(() => rules([{ from: "a", to: "b" }, { match: "regex", from: "a", to: "b", answer: { from: "[", to: "x" } }])).toThrow(/rewrite\[1\]\.answer\.from/);
    expect(() => rules([{ match: "glob", from: "a", to: "b" }])).toThrow(/rewrite\[0\]\.match: "glob" is not one of exact, prefix, suffix, substring, regex/);
    expect(() => rules([{ from: "a", to: "b", type: "A" }])).toThrow(/rewrite\[0\]\.type: is not a field/);
  });
});
