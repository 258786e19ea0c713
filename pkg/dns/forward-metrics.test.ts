import { describe, expect, it } from "vitest";
import { ForwardMetrics } from "./forward-metrics.ts";

describe("forward metrics across a reload", () => {
  it("keep the counts of the upstreams the new configuration still names, and start the new ones at 0", () => {
    const before = new ForwardMetrics(["10.0.0.1:53", "10.0.0.2:53"]);
    before.request(0);
    before.request(0);
    before.response(0, 0, 0.01);
    before.request(1);
    before.mismatch(1);
    const after = new ForwardMetrics(["10.0.0.3:53", "10.0.0.2:53"]);
    after.carryFrom(before);
    after.request(1);
    const text = after.exposition();
    expect(text).toContain('coredns_forward_requests_total{to="10.0.0.2:53"} 2');
    expect(text).toContain('coredns_forward_requests_total{to="10.0.0.3:53"} 0');
    expect(text).toContain('signpost_dns_forward_dropped_responses_total{to="10.0.0.2:53",reason="mismatch"} 1');
    expect(text).not.toContain("10.0.0.1:53");
  });

  it("keep response counts and durations by rcode", () => {
    const before = new ForwardMetrics(["10.0.0.1:53"]);
    before.response(0, 3, 0.002);
    const after = new ForwardMetrics(["10.0.0.1:53"]);
    after.carryFrom(before);
    expect(after.exposition()).toContain('coredns_forward_responses_total{to="10.0.0.1:53",rcode="NXDOMAIN"} 1');
    expect(after.exposition()).toMatch(/coredns_forward_request_duration_seconds_count\{to="10.0.0.1:53",rcode="NXDOMAIN"\} 1/);
  });
});
