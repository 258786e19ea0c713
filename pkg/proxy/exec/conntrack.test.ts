import { describe, expect, it } from "vitest";
import { Conntrack, conntrackArgs } from "./conntrack.ts";
import { FakeRunner } from "./fake-runner.ts";

describe("conntrack deletions", () => {
  it("builds kube-proxy's conntrack -D filters", () => {
    expect(conntrackArgs({ kind: "service-ip-to-endpoint", serviceIP: "10.96.0.10", endpointIP: "10.244.1.2" }, "IPv4")).toEqual([
      "-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.244.1.2",
    ]);
    expect(conntrackArgs({ kind: "node-port", nodePort: 30053 }, "IPv6")).toEqual(["-D", "-p", "udp", "-f", "ipv6", "--orig-port-dst", "30053"]);
  });

  it("counts what was deleted; nothing to delete (exit 1) is no failure", async () => {
    const runner = new FakeRunner((call) =>
      call.args.includes("10.96.0.10")
        ? { exitCode: 0, stderr: "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.\n" }
        : call.args.includes("10.96.0.11")
          ? { exitCode: 1, stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n" }
          : { exitCode: 1, stderr: "conntrack v1.4.7 (conntrack-tools): Operation not permitted\n" },
    );
    const out = await new Conntrack("IPv4", runner).delete([
      { kind: "service-ip", serviceIP: "10.96.0.10" },
      { kind: "service-ip", serviceIP: "10.96.0.11" },
      { kind: "service-ip", serviceIP: "10.96.0.12" },
    ]);
    expect(out.map((o) => o.deleted)).toEqual([2, 0, null]);
    expect(out[2]?.error).toContain("Operation not permitted");
  });
});
