import { describe, expect, it } from "vitest";
import { AlarmWatch, alarmRank } from "./contestants.ts";

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

describe("AlarmWatch", () => {
  const panic = [
    'E1207 07:49:08.100000   4242 server.go:265] "Kube-proxy configuration may be incomplete or incorrect"',
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x30 pc=0x1f2e3d]",
    "",
    "goroutine 1 [running]:",
    "k8s.io/kubernetes/pkg/proxy/iptables.(*Proxier).syncProxyRules(0x0)",
    "\tk8s.io/kubernetes/pkg/proxy/iptables/proxier.go:812 +0x5d",
    "k8s.io/kubernetes/cmd/kube-proxy/app.(*ProxyServer).Run(0xc000123450, {0x37a0b20, 0xc0000a4000})",
    "\tk8s.io/kubernetes/cmd/kube-proxy/app/server.go:540 +0x1b4",
    "k8s.io/component-base/cli.run(0x3795e552fb08)",
    "\tk8s.io/component-base@v0.36.3/cli/run.go:146 +0x23e",
    "",
  ].join("\n");

  it("keeps a Go panic with the frames that say where it panicked, not the error line before it", () => {
    const watch = new AlarmWatch();
    watch.feed(panic);
    expect(watch.lines).toEqual([
      "panic: runtime error: invalid memory address or nil pointer dereference",
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x30 pc=0x1f2e3d]",
      "goroutine 1 [running]:",
      "k8s.io/kubernetes/pkg/proxy/iptables.(*Proxier).syncProxyRules(0x0)",
      "\tk8s.io/kubernetes/pkg/proxy/iptables/proxier.go:812 +0x5d",
      "k8s.io/kubernetes/cmd/kube-proxy/app.(*ProxyServer).Run(0xc000123450, {0x37a0b20, 0xc0000a4000})",
      "\tk8s.io/kubernetes/cmd/kube-proxy/app/server.go:540 +0x1b4",
    ]);
  });

  it("reads lines split across chunks whole", () => {
    const whole = new AlarmWatch();
    whole.feed(panic);
    const split = new AlarmWatch();
    for (let at = 0; at < panic.length; at += 7) split.feed(panic.slice(at, at + 7));
    expect(split.lines).toEqual(whole.lines);
  });

  it("keeps an error log line alone, and nothing when nothing alarms", () => {
    const watch = new AlarmWatch();
    watch.feed('I1207 07:49:08.000000 1 server.go:1] "Using iptables Proxier"\n');
    expect(watch.lines).toEqual([]);
    watch.feed('E1207 07:49:08.100000 1 server.go:2] "sync failed"\nI1207 07:49:09.000000 1 server.go:3] "retrying"\n');
    expect(watch.lines).toEqual(['E1207 07:49:08.100000 1 server.go:2] "sync failed"']);
  });
});
