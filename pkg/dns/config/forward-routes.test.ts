import { describe, expect, it } from "vitest";
import type { ForwardPolicy } from "./effective-config.ts";
import { resolveForwardOptions } from "./forward-options.ts";
import { forwardRoutes } from "./forward-routes.ts";

const up = (address: string, port = 53) => ({ address, port });
const zone = (name: string, upstreams: { address: string; port: number }[], policy: ForwardPolicy = "sequential", maxFails = 0) => ({
  zone: name,
  upstreams,
  policy,
  maxFails,
  healthCheckMs: 500,
  ...resolveForwardOptions({}),
});

describe("forward routes", () => {
  const routes = forwardRoutes([
    zone(".", [up("10.0.0.10"), up("10.0.0.11")]),
    zone("example.corp", [up("10.0.0.53"), up("10.0.0.10")]),
    zone("lab.example.corp", [up("10.0.0.54", 5353)]),
    zone("10.in-addr.arpa", [up("10.0.0.55")]),
  ]);

  it("lists each upstream once, so metrics and loop probes name it once", () => {
    expect(routes.upstreams).toEqual([up("10.0.0.10"), up("10.0.0.11"), up("10.0.0.53"), up("10.0.0.54", 5353), up("10.0.0.55")]);
  });

  it("sends a name to its longest matching zone, anything else to the root's upstreams", () => {
    const named = (name: string) => routes.route(name).map((i) => routes.upstreams[i]?.address);
    expect(named("example.corp")).toEqual(["10.0.0.53", "10.0.0.10"]);
    expect(named("www.example.corp")).toEqual(["10.0.0.53", "10.0.0.10"]);
    expect(named("a.lab.example.corp")).toEqual(["10.0.0.54"]);
    expect(named("4.3.2.10.in-addr.arpa")).toEqual(["10.0.0.55"]);
    expect(named("notexample.corp")).toEqual(["10.0.0.10", "10.0.0.11"]);
    expect(named("corp")).toEqual(["10.0.0.10", "10.0.0.11"]);
    expect(named("")).toEqual(["10.0.0.10", "10.0.0.11"]);
  });

  it("rotates one step per query with round_robin, and shuffles with random", () => {
    const rr = forwardRoutes([zone(".", [up("10.0.0.1"), up("10.0.0.2"), up("10.0.0.3")], "round_robin")]);
    expect([rr.route("a"), rr.route("b"), rr.route("c"), rr.route("d")]).toEqual([[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]);
    const draws = [0.1, 0.9];
    const random = forwardRoutes([zone(".", [up("10.0.0.1"), up("10.0.0.2"), up("10.0.0.3")], "random")], undefined, () => draws.shift() ?? 0);
    // Fisher-Yates from the end: i=2 swaps with floor(0.1*3)=0, then i=1 with floor(0.9*2)=1.
    expect(random.route("a")).toEqual([2, 1, 0]);
  });

  it("leaves out an upstream taken out by health checks, unless every one is out (then all, counted)", () => {
    const down = new Set<number>();
    let broken = 0;
    const checked = forwardRoutes([zone(".", [up("10.0.0.1"), up("10.0.0.2")], "sequential", 2)], { up: (i) => !down.has(i), allDown: () => void broken++ });
    expect(checked.maxFails).toEqual([2, 2]);
    down.add(0);
    expect(checked.route("a")).toEqual([1]);
    down.add(1);
    expect(checked.route("a")).toEqual([0, 1]);
    expect(broken).toBe(1);
  });

  it("gives an upstream in two zones the strictest max_fails of the two", () => {
    const shared = forwardRoutes([zone(".", [up("10.0.0.1")], "sequential", 0), zone("a.test", [up("10.0.0.1")], "sequential", 3), zone("b.test", [up("10.0.0.1")], "sequential", 2)]);
    expect(shared.maxFails).toEqual([2]);
  });
});
