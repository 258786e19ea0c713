import { describe, expect, it } from "vitest";
import { OrphanSlices } from "./orphan-slices.ts";
import { makeService, makeSlice } from "./testing/model-builders.ts";
import { memoryLogger } from "./testing/test-logger.ts";

describe("OrphanSlices", () => {
  it("logs a slice whose Service does not exist by name, once, and again when its Service appears", () => {
    const { log, lines } = memoryLogger();
    const orphans = new OrphanSlices(log);
    const slice = makeSlice("ns1", "ghost", []);
    orphans.onSlice(null, slice);
    orphans.report();
    orphans.onSlice(slice, slice);
    orphans.report();
    expect(lines().map((l) => l["msg"])).toEqual(["endpoint slice ns1/ghost-abc12 is not programmed: its Service ns1/ghost does not exist"]);
    expect(lines()[0]).toMatchObject({ endpointSlice: "ns1/ghost-abc12", service: "ns1/ghost", level: 40 });

    orphans.onService(null, makeService("ns1", "ghost"));
    orphans.report();
    expect(lines()[1]?.["msg"]).toBe("endpoint slice ns1/ghost-abc12 now has its Service ns1/ghost");
    expect(orphans.size).toBe(0);
  });

  it("does not report a slice that arrives before its Service when both are there by the next sync", () => {
    const { log, lines } = memoryLogger();
    const orphans = new OrphanSlices(log);
    orphans.onSlice(null, makeSlice("ns1", "web", []));
    orphans.onService(null, makeService("ns1", "web"));
    orphans.report();
    expect(lines()).toEqual([]);
  });

  it("logs a slice without the service-name label, and forgets a deleted slice", () => {
    const { log, lines } = memoryLogger();
    const orphans = new OrphanSlices(log);
    const slice = makeSlice("ns1", "", [], { name: "stray" });
    orphans.onSlice(null, slice);
    orphans.report();
    expect(lines()[0]?.["msg"]).toBe("endpoint slice ns1/stray is not programmed: it has no kubernetes.io/service-name label");
    orphans.onSlice(slice, null);
    orphans.report();
    expect(orphans.size).toBe(0);
    expect(lines()).toHaveLength(1);
  });
});
