import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { proxyMetrics } from "./proxy-metrics.ts";
import { ServiceProblems } from "./service-problems.ts";
import { makePort, makeService } from "./testing/model-builders.ts";
import { memoryLogger } from "./testing/test-logger.ts";

describe("ServiceProblems", () => {
  it("logs a Service that cannot be programmed once, by name and reason, and counts it", async () => {
    const registry = new Registry();
    const { log, lines } = memoryLogger();
    const problems = new ServiceProblems({ families: ["IPv4"], protocols: new Set(["TCP", "UDP"]) }, log, proxyMetrics(registry));
    const sctp = makeService("ns1", "assoc", { ports: [makePort("a", 80), makePort("s", 9999, "SCTP")] });
    const v6 = makeService("ns1", "v6only", { clusterIPs: ["fd00::1"], ipFamilies: ["IPv6"] });
    problems.update(null, sctp);
    problems.update(sctp, sctp);
    problems.update(null, v6);
    problems.update(null, makeService("ns1", "fine"));
    const warnings = lines().filter((l) => l["level"] === 40);
    expect(warnings.map((l) => l["service"])).toEqual(["ns1/assoc", "ns1/v6only"]);
    expect(warnings[0]?.["problems"]).toEqual(["port s uses SCTP, which this node cannot NAT"]);
    expect((await registry.getSingleMetric("signpost_proxy_unprogrammable_services")?.get())?.values[0]?.value).toBe(2);
    problems.update(v6, null);
    expect(problems.size).toBe(1);
  });
});
