import { describe, expect, it } from "vitest";
import { watchRequests } from "./fleet.ts";

describe("the fleet's watch count", () => {
  it("sums the API server's WATCH long-running requests over every resource and scope, and nothing else", () => {
    const metrics = [
      "# HELP apiserver_longrunning_requests [STABLE] Gauge of all active long-running apiserver requests",
      "# TYPE apiserver_longrunning_requests gauge",
      'apiserver_longrunning_requests{component="apiserver",group="",resource="services",scope="cluster",subresource="",verb="WATCH",version="v1"} 50',
      'apiserver_longrunning_requests{component="apiserver",group="discovery.k8s.io",resource="endpointslices",scope="cluster",subresource="",verb="WATCH",version="v1"} 50',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="log",verb="CONNECT",version="v1"} 3',
      'apiserver_longrunning_requests_other{verb="WATCH"} 7',
    ].join("\n");
    expect(watchRequests(metrics)).toBe(100);
    expect(watchRequests("")).toBe(0);
  });
});
