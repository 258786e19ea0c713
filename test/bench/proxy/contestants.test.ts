import { describe, expect, it } from "vitest";
import { alarmRank } from "./contestants.ts";

describe("alarmRank", () => {
  it("puts a Go panic or fatal error above an error log line, and an ordinary line below both", () => {
    const lines = [
      'E1207 02:18:32.246651   12797 server.go:265] "Kube-proxy configuration may be incomplete or incorrect"',
      "panic: runtime error: invalid memory address or nil pointer dereference",
      "fatal error: concurrent map writes",
      '{"level":50,"msg":"sync failed"}',
      'I1207 02:18:32.246651   12797 server.go:265] "Using iptables Proxier"',
    ];
    expect(lines.map(alarmRank)).toEqual([1, 2, 2, 1, 0]);
  });
});
