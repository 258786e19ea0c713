import { describe, expect, it } from "vitest";
import type { BenchNode } from "./bench-node.ts";
import type { RunningDaemon } from "./contestants.ts";
import { FleetInstance, restartDelayMs, watchRequests } from "./fleet.ts";

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

describe("the fleet's restarts", () => {
  it("waits the kubelet's crash-loop back-off: 10 s, doubling, at most 5 min", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(restartDelayMs)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  /** A daemon that is running until exit() is called. */
  function fakeDaemon(pid: number, output: string): RunningDaemon & { exit(): void } {
    let exited = false;
    return { pid, get exited() { return exited; }, exit: () => (exited = true), exitDescription: () => "exited with code 2", tail: () => output } as unknown as RunningDaemon & { exit(): void };
  }

  it("starts an exited instance again once the back-off has passed, counting every exit and keeping the first", async () => {
    const started: ReturnType<typeof fakeDaemon>[] = [];
    const instance = new FleetInstance({} as BenchNode, () => {
      const d = fakeDaemon(100 + started.length, `panic: run ${started.length + 1}`);
      started.push(d);
      return Promise.resolve(d);
    });
    await instance.launch();
    expect(instance.pid).toBe(100);

    started[0]?.exit();
    await instance.tend(0);
    expect([instance.pid, instance.exits, started.length]).toEqual([null, 1, 1]);
    await instance.tend(9_999);
    expect(started.length).toBe(1);
    await instance.tend(10_000);
    expect([instance.pid, started.length]).toEqual([101, 2]);

    started[1]?.exit();
    await instance.tend(50_000);
    await instance.tend(69_999);
    expect(started.length).toBe(2);
    await instance.tend(70_000);
    expect([instance.pid, instance.exits]).toEqual([102, 2]);
    expect(instance.firstExit).toBe("exited with code 2: panic: run 1");
  });
});
