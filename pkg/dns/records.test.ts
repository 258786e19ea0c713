import { describe, expect, it } from "vitest";
import { type DnsRecord, NO_RRSETS, toRRSets, TYPE } from "./records.ts";

describe("record sets", () => {
  const a = (address: string): DnsRecord => ({ type: "A", ttl: 5, address });
  const srv = (port: number): DnsRecord => ({ type: "SRV", ttl: 5, priority: 0, weight: 50, port, target: "svc.ns.svc.cluster.local" });

  it("has no set for no records", () => {
    expect(toRRSets(null, [])).toEqual([]);
  });

  it("keeps the list of a name that holds one type as the set's own, not a copy", () => {
    const records = [a("10.0.0.1"), a("10.0.0.2")];
    const [set, ...rest] = toRRSets("web.ns.svc.cluster.local", records);
    expect(rest).toEqual([]);
    expect(set?.records).toBe(records);
    expect(set).toMatchObject({ type: TYPE.A, owner: "web.ns.svc.cluster.local", additional: NO_RRSETS });
  });

  it("groups mixed records by type, types in first-seen order and records in given order", () => {
    const sets = toRRSets(null, [srv(80), a("10.0.0.1"), srv(443), a("10.0.0.2")]);
    expect(sets.map((s) => s.type)).toEqual([TYPE.SRV, TYPE.A]);
    expect(sets[0]?.records).toEqual([srv(80), srv(443)]);
    expect(sets[1]?.records).toEqual([a("10.0.0.1"), a("10.0.0.2")]);
    expect(sets.every((s) => s.owner === null && s.additional === NO_RRSETS)).toBe(true);
  });
});
