import { describe, expect, it } from "vitest";
import { endpointsForPort } from "./slice-endpoints.ts";
import { SliceProblems, sliceProblems } from "./slice-problems.ts";
import { makeEndpoint, makeSlice } from "./testing/model-builders.ts";
import { memoryLogger } from "./testing/test-logger.ts";

const slice = makeSlice("ns1", "web", [makeEndpoint("10.180.0.1"), makeEndpoint("127.0.0.1"), makeEndpoint("169.254.0.7"), makeEndpoint("10.180.0.2")]);

describe("endpoints at special addresses", () => {
  it("are no backends; the others are", () => {
    expect(endpointsForPort([slice], "p80", "TCP", "IPv4", "node1").map((e) => e.address)).toEqual(["10.180.0.1:80", "10.180.0.2:80"]);
  });

  it("are named with their field", () => {
    expect(sliceProblems(slice)).toEqual([
      "endpoints[1].addresses[0] 127.0.0.1 is a loopback address, skipped",
      "endpoints[2].addresses[0] 169.254.0.7 is a link-local address, skipped",
    ]);
  });

  it("are logged once per slice by namespace/name, again when they change, and the end of it too", () => {
    const { log, lines } = memoryLogger();
    const problems = new SliceProblems(log);
    problems.update(null, slice);
    problems.update(slice, slice);
    const fixed = makeSlice("ns1", "web", [makeEndpoint("10.180.0.1")]);
    problems.update(slice, fixed);
    expect(lines().map((l) => [l["level"], l["endpointSlice"], l["msg"]])).toEqual([
      [40, "ns1/web-abc12", expect.stringMatching(/^endpoint slice ns1\/web-abc12: endpoints\[1\]\.addresses\[0\] 127\.0\.0\.1 is a loopback address, skipped; .*; its other endpoints are programmed$/)],
      [30, "ns1/web-abc12", "endpoint slice ns1/web-abc12 has no skipped endpoint any more"],
    ]);
    expect(problems.size).toBe(0);
  });
});
