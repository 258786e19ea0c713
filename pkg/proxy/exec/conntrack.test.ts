import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Conntrack, conntrackArgs, parseConntrackList } from "./conntrack.ts";
import { FakeRunner } from "./fake-runner.ts";

describe("conntrack deletions", () => {
  it("builds kube-proxy's conntrack -D filters", () => {
    expect(conntrackArgs({ kind: "service-ip-to-endpoint", serviceIP: "10.96.0.10", endpointIP: "10.244.1.2" }, "IPv4")).toEqual([
      "-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.244.1.2",
    ]);
    expect(conntrackArgs({ kind: "node-port", nodePort: 30053 }, "IPv6")).toEqual(["-D", "-p", "udp", "-f", "ipv6", "--orig-port-dst", "30053"]);
  });

  it("sends many deletions to one conntrack process, and counts the flows it printed", async () => {
    const files: string[] = [];
    const runner = new FakeRunner((call) => {
      const text = readFileSync(call.args[1] ?? "", "utf8");
      files.push(text);
      return { exitCode: 0, stdout: text.includes("10.96.0.10\n") ? "udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=1 dport=53 src=10.244.2.2 dst=10.244.1.5 sport=53 dport=1 mark=0 use=1\n" : "" };
    });
    const deletions = Array.from({ length: 1500 }, (_, i) => ({ kind: "service-ip" as const, serviceIP: `10.96.${i >> 8}.${i & 255}` }));
    const out = await new Conntrack("IPv4", runner).delete(deletions);
    expect(runner.calls.map((c) => [c.command, c.args[0]])).toEqual([["conntrack", "-R"], ["conntrack", "-R"]]);
    expect(files.map((f) => f.split("\n").length - 1)).toEqual([1000, 500]);
    expect(files[0]?.split("\n")[0]).toBe("-D -p udp --orig-dst 10.96.0.0");
    expect(out.map((o) => [o.deletions.length, o.deleted])).toEqual([[1000, 1], [500, 0]]);
  });

  it("reports a failed batch with conntrack's words", async () => {
    const runner = new FakeRunner(() => ({ exitCode: 1, stderr: "conntrack v1.4.7 (conntrack-tools): Operation not permitted\n" }));
    const out = await new Conntrack("IPv4", runner).delete([{ kind: "service-ip", serviceIP: "10.96.0.12" }]);
    expect(out).toEqual([{ deletions: [{ kind: "service-ip", serviceIP: "10.96.0.12" }], deleted: null, error: "conntrack v1.4.7 (conntrack-tools): Operation not permitted" }]);
  });

  it("reads the UDP flows of conntrack -L, original tuple and reply source", () => {
    const text = [
      "udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=41422 dport=53 [UNREPLIED] src=10.244.2.2 dst=10.244.1.5 sport=5353 dport=41422 mark=0 use=1",
      "udp      17 29 src=fd00::5 dst=fd00:96::a sport=1 dport=53 src=fd00:244::2 dst=fd00::5 sport=53 dport=1 [ASSURED] mark=0 use=1",
      "garbage",
    ].join("\n");
    expect(parseConntrackList(text)).toEqual([
      { origSrc: "10.244.1.5", origDst: "10.96.0.10", origSport: 41422, origDport: 53, replySrc: "10.244.2.2", replySport: 5353 },
      { origSrc: "fd00::5", origDst: "fd00:96::a", origSport: 1, origDport: 53, replySrc: "fd00:244::2", replySport: 53 },
    ]);
  });
});
