import { describe, expect, it } from "vitest";
import { answerFromHosts, type HostsAnswerOptions, mergeHosts, parseHosts } from "./hosts-table.ts";
import { RCODE, TYPE } from "./records.ts";

const text = `# a comment
127.0.0.1   localhost
10.0.0.1    db.example.corp db   # trailing comment
10.0.0.2    db.example.corp
fd00::1     db.example.corp
not-an-ip   broken.example.corp
10.0.0.9
10.0.0.3    web.example.corp bad_name! Upper.Example.Corp.
`;
const all: HostsAnswerOptions = { zones: ["."], ttl: 3600, reverse: true, fallthrough: [] };
const lines = (r: ReturnType<typeof answerFromHosts>) =>
  r === null ? null : { rcode: r.rcode, answer: r.answer.flatMap((s) => s.records.map((x) => ("address" in x ? x.address : "target" in x ? x.target : x.type))) };

describe("hosts table", () => {
  const { table, errors } = parseHosts(text);

  it("reads names and aliases, lower-cased, skipping and reporting bad lines by number", () => {
    expect([...table.byName.keys()]).toEqual(["localhost", "db.example.corp", "db", "web.example.corp", "upper.example.corp"]);
    expect(table.byName.get("db.example.corp")).toEqual({ v4: ["10.0.0.1", "10.0.0.2"], v6: ["fd00::1"] });
    expect(errors).toEqual([
      { line: 6, reason: '"not-an-ip" is not an IP address' },
      { line: 7, reason: "10.0.0.9 has no name" },
      { line: 8, reason: '"bad_name!" is not a host name' },
    ]);
  });

  it("answers A and AAAA, NODATA for other types of a known name, NXDOMAIN for unknown names", () => {
    expect(lines(answerFromHosts(table, "db.example.corp", TYPE.A, all))).toEqual({ rcode: RCODE.NOERROR, answer: ["10.0.0.1", "10.0.0.2"] });
    expect(lines(answerFromHosts(table, "db.example.corp", TYPE.AAAA, all))).toEqual({ rcode: RCODE.NOERROR, answer: ["fd00::1"] });
    expect(lines(answerFromHosts(table, "web.example.corp", TYPE.AAAA, all))).toEqual({ rcode: RCODE.NOERROR, answer: [] });
    expect(lines(answerFromHosts(table, "web.example.corp", 15, all))).toEqual({ rcode: RCODE.NOERROR, answer: [] });
    expect(lines(answerFromHosts(table, "other.example.corp", TYPE.A, all))).toEqual({ rcode: RCODE.NXDOMAIN, answer: [] });
  });

  it("passes on names outside its zones, and unknown names in its fallthrough zones", () => {
    const corp = { ...all, zones: ["example.corp"] };
    expect(answerFromHosts(table, "localhost", TYPE.A, corp)).toBeNull();
    expect(lines(answerFromHosts(table, "x.example.corp", TYPE.A, corp))).toEqual({ rcode: RCODE.NXDOMAIN, answer: [] });
    expect(answerFromHosts(table, "x.example.corp", TYPE.A, { ...corp, fallthrough: ["example.corp"] })).toBeNull();
    expect(lines(answerFromHosts(table, "db.example.corp", TYPE.A, { ...corp, fallthrough: ["example.corp"] }))?.answer).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("answers PTR for the entries' addresses in any zone, and passes on other addresses or when reverse is off", () => {
    const corp = { ...all, zones: ["example.corp"] };
    expect(lines(answerFromHosts(table, "1.0.0.10.in-addr.arpa", TYPE.PTR, corp))?.answer).toEqual(["db.example.corp", "db"]);
    expect(lines(answerFromHosts(table, `1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa`, TYPE.PTR, corp))?.answer).toEqual(["db.example.corp"]);
    expect(answerFromHosts(table, "8.0.0.10.in-addr.arpa", TYPE.PTR, corp)).toBeNull();
    expect(answerFromHosts(table, "1.0.0.10.in-addr.arpa", TYPE.PTR, { ...corp, reverse: false })).toBeNull();
  });

  it("answers a wildcard entry one label below its parent only, after the names of their own, without PTR", () => {
    const w = parseHosts("192.168.1.10 *.example.com\n192.168.1.11 a.example.com\n").table;
    const first = (name: string) => lines(answerFromHosts(w, name, TYPE.A, all));
    expect(first("a.example.com")?.answer).toEqual(["192.168.1.11"]);
    expect(first("apps.example.com")?.answer).toEqual(["192.168.1.10"]);
    expect(first("example.com")?.rcode).toBe(RCODE.NXDOMAIN);
    expect(first("deep.apps.example.com")?.rcode).toBe(RCODE.NXDOMAIN);
    expect(answerFromHosts(w, "10.1.168.192.in-addr.arpa", TYPE.PTR, all)).toBeNull();
  });

  it("gives inline entries precedence over the file's for the same name", () => {
    const merged = mergeHosts(table, parseHosts("192.0.2.7 db.example.corp").table);
    expect(merged.byName.get("db.example.corp")).toEqual({ v4: ["192.0.2.7"], v6: [] });
    expect(merged.byName.get("web.example.corp")).toEqual({ v4: ["10.0.0.3"], v6: [] });
    expect(merged.byAddress.get("10.0.0.1")).toEqual(["db"]);
  });
});
