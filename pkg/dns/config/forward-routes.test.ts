import { describe, expect, it } from "vitest";
import { forwardRoutes } from "./forward-routes.ts";

const up = (address: string, port = 53) => ({ address, port });

describe("forward routes", () => {
  const routes = forwardRoutes([
    { zone: ".", upstreams: [up("10.0.0.10"), up("10.0.0.11")] },
    { zone: "example.corp", upstreams: [up("10.0.0.53"), up("10.0.0.10")] },
    { zone: "lab.example.corp", upstreams: [up("10.0.0.54", 5353)] },
    { zone: "10.in-addr.arpa", upstreams: [up("10.0.0.55")] },
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
});
