import pino from "pino";
import { describe, expect, it } from "vitest";
import { logQueries } from "./query-log.ts";
import type { QueryHandler } from "./query-handler.ts";
import { TYPE } from "./records.ts";
import { queryBytes } from "./testing/messages.ts";

describe("logQueries", () => {
  it("writes one line per query with client, question, rcode and size, for sync and async answers", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const nxdomain = Buffer.from([0x12, 0x34, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0]);
    const handler: QueryHandler = (_m, transport) => (transport === "udp" ? nxdomain : Promise.resolve(null));
    const logged = logQueries(log, handler);
    expect(logged(queryBytes("Web.Default.svc.cluster.local", TYPE.AAAA), "udp", { address: "10.244.0.9", port: 40000 })).toBe(nxdomain);
    await logged(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]), "tcp");
    expect(lines.map(({ time: _t, pid: _p, hostname: _h, durationMs: _d, ...rest }) => rest)).toEqual([
      { level: 30, msg: "query", client: "10.244.0.9:40000", proto: "udp", id: 0x1234, qname: "web.default.svc.cluster.local.", qtype: "AAAA", qclass: "IN", rcode: "NXDOMAIN", rsize: 12 },
      { level: 30, msg: "query", proto: "tcp", malformed: true, size: 13, rcode: "dropped", rsize: 0 },
    ]);
  });
});
