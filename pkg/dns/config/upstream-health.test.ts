import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UpstreamHealth } from "./upstream-health.ts";

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe("upstream health checks", () => {
  it("takes an upstream out after max_fails failures in a row, probes it with . NS, and puts it back when it answers", async () => {
    let answers = false;
    const probes: string[] = [];
    const changes: string[] = [];
    const health = new UpstreamHealth({
      labels: ["10.0.0.1:53", "10.0.0.2:53"],
      maxFails: [2, 0],
      intervalMs: [500, 500],
      probe: (index, question) => {
        probes.push(`${index}:${question.toString("hex")}`);
        return answers ? Promise.resolve() : Promise.reject(new Error("timeout"));
      },
      onChange: (index, healthy) => void changes.push(`${index}:${healthy}`),
    });
    health.result(0, false);
    health.result(0, true);
    health.result(0, false);
    expect(health.up(0)).toBe(true);
    health.result(0, false);
    expect(health.up(0)).toBe(false);
    for (let i = 0; i < 5; i++) health.result(1, false);
    expect(health.up(1)).toBe(true);

    await vi.advanceTimersByTimeAsync(1000);
    expect(probes).toEqual(["0:0000020001", "0:0000020001"]);
    expect(health.exposition()).toContain('coredns_forward_healthcheck_failures_total{to="10.0.0.1:53"} 2');
    expect(health.exposition()).toContain('signpost_dns_forward_upstream_healthy{to="10.0.0.1:53"} 0');
    answers = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(health.up(0)).toBe(true);
    expect(changes).toEqual(["0:false", "0:true"]);
    expect(health.exposition()).toContain('signpost_dns_forward_upstream_healthy{to="10.0.0.1:53"} 1');
    await vi.advanceTimersByTimeAsync(5000);
    expect(probes).toHaveLength(3);
    health.stop();
  });

  it("stops probing when stopped", async () => {
    let probes = 0;
    const health = new UpstreamHealth({ labels: ["a"], maxFails: [1], intervalMs: [100], probe: () => (probes++, Promise.reject(new Error("x"))) });
    health.result(0, false);
    await vi.advanceTimersByTimeAsync(250);
    health.stop();
    const seen = probes;
    await vi.advanceTimersByTimeAsync(1000);
    expect(probes).toBe(seen);
  });
});
