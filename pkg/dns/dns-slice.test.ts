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
