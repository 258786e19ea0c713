import { describe, expect, it } from "vitest";
import type { Endpoint } from "../model/types.ts";
import { dnsSlice } from "./dns-slice.ts";
import { RecordStore } from "./record-store.ts";
import { TYPE } from "./records.ts";
import { endpoint, service, slice } from "./testing/objects.ts";

/** The addresses a headless Service named "h" publishes for one endpoint with these conditions. */
function published(conditions: Partial<Endpoint>, publishNotReadyAddresses: boolean): string[] {
  const store = new RecordStore();
  store.upsertService(service({ name: "h", headless: true, publishNotReadyAddresses }));
  store.upsertEndpointSlice(dnsSlice(slice({ name: "h-1", serviceName: "h", endpoints: [endpoint("10.0.0.1", conditions)] })));
  const sets = store.lookup("h.default.svc.cluster.local")?.rrsets ?? [];
  return sets.filter((s) => s.type === TYPE.A).flatMap((s) => s.records.map((r) => (r.type === "A" ? r.address : "")));
}

describe("which endpoints a Service publishes, by their EndpointSlice conditions", () => {
  // ready, serving, terminating as the EndpointSlice controller writes them for each Pod state.
  it.each([
    ["a ready Pod", { ready: true, serving: true, terminating: false }, ["10.0.0.1"], ["10.0.0.1"]],
    ["a Pod that is not ready", { ready: false, serving: false, terminating: false }, [], ["10.0.0.1"]],
    ["a terminating Pod still serving", { ready: false, serving: true, terminating: true }, [], ["10.0.0.1"]],
    ["a terminating Pod no longer serving", { ready: false, serving: false, terminating: true }, [], ["10.0.0.1"]],
    // Only a slice written by another controller says both; the endpoint is on its way out.
    ["an endpoint marked ready and terminating", { ready: true, serving: true, terminating: true }, [], ["10.0.0.1"]],
  ])("%s: published without publishNotReadyAddresses %j, with it %j", (_, conditions, without, withFlag) => {
    expect(published(conditions, false)).toEqual(without);
    expect(published(conditions, true)).toEqual(withFlag);
  });
});

describe("how an endpoint is kept", () => {
  it("keeps a published endpoint with one address and no hostname as its address alone, any other with its fields", () => {
    const kept = dnsSlice(
      slice({
        name: "h-1",
        serviceName: "h",
        endpoints: [
          endpoint("10.0.0.1"),
          endpoint("10.0.0.2", { hostname: "web-0" }),
          endpoint("10.0.0.3", { ready: false, serving: false }),
          endpoint("10.0.0.4", { terminating: true }),
          endpoint("10.0.0.5", { addresses: ["10.0.0.5", "10.0.0.6"] }),
        ],
      }),
    ).endpoints;
    expect(kept).toEqual([
      "10.0.0.1",
      { addresses: ["10.0.0.2"], ready: true, hostname: "web-0" },
      { addresses: ["10.0.0.3"], ready: false, hostname: "" },
      { addresses: ["10.0.0.4"], ready: false, hostname: "" },
      { addresses: ["10.0.0.5", "10.0.0.6"], ready: true, hostname: "" },
    ]);
  });

  it("gives both kinds their names and PTRs", () => {
    const store = new RecordStore();
    store.upsertService(service({ name: "h", headless: true }));
    store.upsertEndpointSlice(dnsSlice(slice({ name: "h-1", serviceName: "h", endpoints: [endpoint("10.0.0.1"), endpoint("10.0.0.2", { hostname: "web-0" })] })));
    const addresses = (name: string): string[] =>
      (store.lookup(name)?.rrsets ?? []).flatMap((s) => s.records.map((r) => (r.type === "A" ? r.address : r.type === "PTR" ? r.target : "")));
    expect(addresses("h.default.svc.cluster.local").sort()).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(addresses("10-0-0-1.h.default.svc.cluster.local")).toEqual(["10.0.0.1"]);
    expect(addresses("web-0.h.default.svc.cluster.local")).toEqual(["10.0.0.2"]);
    expect(addresses("1.0.0.10.in-addr.arpa")).toEqual(["10-0-0-1.h.default.svc.cluster.local"]);
    expect(addresses("2.0.0.10.in-addr.arpa")).toEqual(["web-0.h.default.svc.cluster.local"]);
  });
});
