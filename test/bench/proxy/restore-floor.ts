// The floor for cold start: the rule set a proxy wrote, saved with iptables-save and restored
// from memory into a fresh, empty network namespace by one iptables-restore. No proxy can
// program the same rules faster than the kernel and iptables-restore take them, so the report
// shows each cold start against it. iptables backends only (nftables has no iptables-save).
import { performance } from "node:perf_hooks";
import { NetNs } from "../../support/netns.ts";
import type { BenchNode } from "./bench-node.ts";
import { iptablesTool } from "./contestants.ts";

export interface RestoreFloor {
  readonly seconds: number;
  readonly bytes: number;
}

export async function restoreFloor(node: BenchNode): Promise<RestoreFloor> {
  const rules = await node.run(iptablesTool("iptables-save"), []);
  const empty = await NetNs.create("floor");
  try {
    const t0 = performance.now();
    await empty.run(iptablesTool("iptables-restore"), ["-w"], { input: rules, timeoutMs: 600_000 });
    return { seconds: (performance.now() - t0) / 1000, bytes: Buffer.byteLength(rules) };
  } finally {
    await empty.destroy();
  }
}
