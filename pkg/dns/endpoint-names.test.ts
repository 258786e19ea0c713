import { describe, expect, it } from "vitest";
import { EndpointIndex } from "./endpoint-index.ts";
import { addressesNamed, endpointNames, namesOf, sameEndpointNames } from "./endpoint-names.ts";

const svc = "web.default.svc.cluster.local";

describe("endpointNames", () => {
  it("keeps no hostname list when no endpoint has a hostname, and no table without endpoints", () => {
    expect(endpointNames(svc, [])).toBeNull();
    expect(endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }])).toEqual({ service: svc, ips: ["10.0.0.1"], hostnames: null });
    expect(endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }, { hostname: "web-0", ip: "10.0.0.2" }])?.hostnames).toEqual(["", "web-0"]);
  });

  it("finds an address by its dashed label, spelled exactly as CoreDNS spells it", () => {
    const t = endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }, { hostname: "", ip: "fd00::1" }]);
    if (t === null) throw new Error("no table");
    expect(addressesNamed(t, "10-0-0-1")).toEqual(["10.0.0.1"]);
    expect(addressesNamed(t, "fd00--1")).toEqual(["fd00::1"]);
    expect(addressesNamed(t, "10-0-0-01")).toEqual([]);
    expect(addressesNamed(t, "10-0-0-2")).toEqual([]);
    expect(addressesNamed(t, "_tcp")).toEqual([]);
  });

  it("names an IPv6 address ending in :: with a trailing 0, finds it by that name only, and points its PTR there", () => {
    const t = endpointNames(svc, [{ hostname: "", ip: "fd00:10:244::" }]);
    if (t === null) throw new Error("no table");
    expect(namesOf(t, "fd00:10:244::")).toEqual([`fd00-10-244--0.${svc}`]);
    expect(addressesNamed(t, "fd00-10-244--0")).toEqual(["fd00:10:244::"]);
    expect(addressesNamed(t, "fd00-10-244--")).toEqual([]);
  });

  it("finds an endpoint with a hostname by that name only, and every address under it", () => {
    const t = endpointNames(svc, [
      { hostname: "web-0", ip: "10.0.0.1" },
      { hostname: "web-0", ip: "fd00::1" },
      { hostname: "", ip: "10.0.0.3" },
    ]);
    if (t === null) throw new Error("no table");
    expect(addressesNamed(t, "web-0")).toEqual(["10.0.0.1", "fd00::1"]);
    expect(addressesNamed(t, "10-0-0-1")).toEqual([]);
    expect(addressesNamed(t, "10-0-0-3")).toEqual(["10.0.0.3"]);
    expect(namesOf(t, "10.0.0.1")).toEqual([`web-0.${svc}`]);
    expect(namesOf(t, "10.0.0.3")).toEqual([`10-0-0-3.${svc}`]);
  });

  it("compares tables by service, addresses and hostnames", () => {
    const a = endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }]);
    expect(sameEndpointNames(a, endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }]))).toBe(true);
    expect(sameEndpointNames(a, endpointNames(svc, [{ hostname: "x", ip: "10.0.0.1" }]))).toBe(false);
    expect(sameEndpointNames(a, endpointNames(svc, [{ hostname: "", ip: "10.0.0.2" }]))).toBe(false);
    expect(sameEndpointNames(a, null)).toBe(false);
    expect(sameEndpointNames(null, null)).toBe(true);
  });
});

describe("EndpointIndex", () => {
  const other = "db.default.svc.cluster.local";

  it("answers names and PTRs from every table that has the address, and forgets a replaced table", () => {
    const index = new EndpointIndex();
    const a = endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }]);
    const b = endpointNames(other, [{ hostname: "db-0", ip: "10.0.0.1" }]);
    expect(index.replace(null, a)).toBe(true);
    expect(index.replace(null, b)).toBe(true);
    expect(index.addresses(`10-0-0-1.${svc}`)).toEqual(["10.0.0.1"]);
    expect(index.addresses(`db-0.${other}`)).toEqual(["10.0.0.1"]);
    expect(index.addresses(`10-0-0-1.nope.default.svc.cluster.local`)).toEqual([]);
    expect(index.namesOf("10.0.0.1")).toEqual([`10-0-0-1.${svc}`, `db-0.${other}`]);

    expect(index.replace(a, endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }]))).toBe(false);
    const moved = endpointNames(svc, [{ hostname: "", ip: "10.0.0.9" }]);
    expect(index.replace(a, moved)).toBe(true);
    expect(index.namesOf("10.0.0.1")).toEqual([`db-0.${other}`]);
    expect(index.namesOf("10.0.0.9")).toEqual([`10-0-0-9.${svc}`]);
    index.replace(b, null);
    expect(index.namesOf("10.0.0.1")).toEqual([]);
    expect(index.addresses(`db-0.${other}`)).toEqual([]);
  });

  it("answers by address the same when filing waits: the first read files the queue, in the order it came", () => {
    const index = new EndpointIndex();
    index.deferAddresses();
    const a = endpointNames(svc, [{ hostname: "", ip: "10.0.0.1" }]);
    const b = endpointNames(other, [{ hostname: "db-0", ip: "10.0.0.1" }]);
    index.replace(null, a);
    index.replace(null, b);
    // A table replaced while queued is dropped from the queue, never filed.
    const moved = endpointNames(svc, [{ hostname: "", ip: "10.0.0.9" }]);
    index.replace(a, moved);
    expect(index.addresses(`db-0.${other}`)).toEqual(["10.0.0.1"]);
    expect(index.namesOf("10.0.0.1")).toEqual([`db-0.${other}`]);
    expect(index.namesOf("10.0.0.9")).toEqual([`10-0-0-9.${svc}`]);
    expect(index.servicesWith("10.0.0.9")).toEqual([svc]);
    // Drained: a table is filed as it comes again.
    expect(index.fileSome(1)).toBe(false);
    index.replace(null, endpointNames("x.default.svc.cluster.local", [{ hostname: "", ip: "10.0.0.1" }]));
    expect(index.namesOf("10.0.0.1")).toEqual([`db-0.${other}`, "10-0-0-1.x.default.svc.cluster.local"]);
  });

  it("files a few queued tables per call until none remain", () => {
    const index = new EndpointIndex();
    index.deferAddresses();
    const tables = [1, 2, 3].map((n) => endpointNames(`s${n}.default.svc.cluster.local`, [{ hostname: "", ip: `10.0.1.${n}` }, { hostname: "", ip: "10.0.2.1" }]));
    for (const t of tables) index.replace(null, t);
    expect(index.fileSome(2)).toBe(true); // the first table's two addresses
    expect(index.fileSome(2)).toBe(true);
    expect(index.fileSome(2)).toBe(false);
    expect(index.servicesWith("10.0.2.1")).toEqual(tables.map((t) => t?.service));
    index.replace(tables[1] ?? null, null);
    expect(index.servicesWith("10.0.2.1")).toEqual([tables[0]?.service, tables[2]?.service]);
  });

  it("indexes an address that two hostnames of one Service share once", () => {
    const index = new EndpointIndex();
    const t = endpointNames(svc, [{ hostname: "a", ip: "10.0.0.1" }, { hostname: "b", ip: "10.0.0.1" }]);
    index.replace(null, t);
    expect(index.namesOf("10.0.0.1")).toEqual([`a.${svc}`, `b.${svc}`]);
    index.replace(t, null);
    expect(index.namesOf("10.0.0.1")).toEqual([]);
  });
});
