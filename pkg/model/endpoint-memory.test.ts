// How much heap a converted endpoint retains, at the scale the design names: 100,000 endpoints
// (10,000 slices of 10) on 100 nodes. The figure is printed for the report, never judged against
// a tight bound: a timing or a byte count does not decide whether a test passes.
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { convertEndpointSlice } from "./convert-endpointslice.ts";
import { createInterner, type Interner } from "./intern.ts";
import type { EndpointSlice } from "./types.ts";
import { underTestScript } from "../../test/support/under-test-script.ts";

const sliceCount = 10_000;
const endpointsPerSlice = 10;
const nodeCount = 100;
const endpointCount = sliceCount * endpointsPerSlice;

/** global.gc when node runs with --expose-gc; otherwise the same function, exposed to a new context. */
function findGC(): (() => void) | null {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    setFlagsFromString("--expose-gc");
    const fromContext = runInNewContext("gc") as (() => void) | undefined;
    return typeof fromContext === "function" ? fromContext : null;
  } catch {
    return null;
  }
}

/**
 * A slice as the watch layer hands it over: parsed from JSON text, so every string is a fresh flat
 * copy (a template literal alone would build rope strings that cost more than parsed ones).
 */
function apiSlice(i: number): V1EndpointSlice {
  return JSON.parse(JSON.stringify(sliceObject(i))) as V1EndpointSlice;
}

/**
 * Node names as EKS spells them: V8's JSON parser already shares short strings such as "node-7",
 * so short names would not show what the interner saves.
 */
function sliceObject(i: number): V1EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    addressType: "IPv4",
    metadata: {
      name: `svc-${i}-x7k2p`,
      namespace: `team-${i % 20}`,
      labels: { "kubernetes.io/service-name": `svc-${i}` },
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    },
    ports: [{ name: `http`, port: 8080, protocol: "TCP" }],
    endpoints: Array.from({ length: endpointsPerSlice }, (_, j) => {
      const n = (i * endpointsPerSlice + j) % nodeCount;
      return {
        addresses: [`10.${(i >> 8) & 255}.${i & 255}.${j + 1}`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: `ip-10-0-${n}-17.eu-west-1.compute.internal`,
        zone: `eu-west-1${"abc".charAt(n % 3)}`,
        targetRef: { kind: "Pod", name: `svc-${i}-6d4cf56db6-${j}abcd`, namespace: `team-${i % 20}`, uid: `uid-${i}-${j}` },
      };
    }),
  };
}

function retainedBytesPerEndpoint(gc: () => void, interner: Interner): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = new Array<EndpointSlice>(sliceCount);
  for (let i = 0; i < sliceCount; i++) kept[i] = convertEndpointSlice(apiSlice(i), interner);
  gc();
  const after = process.memoryUsage().heapUsed;
  expect(kept[sliceCount - 1]?.endpoints).toHaveLength(endpointsPerSlice);
  return (after - before) / endpointCount;
}

// Heavy on purpose (100,000 endpoints, forced GCs): generous timeouts, so a loaded CI machine
// cannot fail it on time alone.
describe("converted endpoints at scale", { timeout: 60_000 }, () => {
  it("converts 100,000 endpoints on 100 nodes, sharing the node names", () => {
    const interner = createInterner();
    let endpoints = 0;
    const nodes = new Set<string>();
    for (let i = 0; i < sliceCount; i++) {
      for (const endpoint of convertEndpointSlice(apiSlice(i), interner).endpoints) {
        endpoints++;
        nodes.add(endpoint.nodeName);
      }
    }
    expect(endpoints).toBe(endpointCount);
    expect(nodes.size).toBe(nodeCount);
    // 100 node names, 3 zones, 20 namespaces, 1 port name: the interner holds only those.
    expect(interner.size).toBe(nodeCount + 3 + 20 + 1);
  });

  // Node 24 lets findGC expose the collector at run time. Skipped only by a developer's vitest on
  // a V8 that refuses --expose-gc after start, where a heap figure means nothing; under
  // ./hack/test.sh it always runs, and fails if the collector cannot be had.
  const gc = findGC();
  it.skipIf(gc === null && !underTestScript)("retains a few hundred bytes per endpoint", () => {
    if (gc === null) throw new Error("this V8 refused --expose-gc: no heap figure can be taken");
    const withInterning = retainedBytesPerEndpoint(gc, createInterner());
    const withoutInterning = retainedBytesPerEndpoint(gc, { intern: (value) => value, size: 0 });
    console.log(
      `model: ${endpointCount} endpoints retain ${withInterning.toFixed(1)} B/endpoint ` +
        `(${withoutInterning.toFixed(1)} B/endpoint without interning)`,
    );
    expect(withInterning).toBeGreaterThan(0);
    expect(withInterning).toBeLessThan(2048);
  });
});
