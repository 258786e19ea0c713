import pino from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULT_LOG_SETTINGS } from "./config/log-config.ts";
import { LogBudget } from "./log-budget.ts";
import { decodeQuery } from "./query-decode.ts";
import type { QueryHandler } from "./query-handler.ts";
import { logQueries } from "./query-log.ts";
import { logDroppedExposition, QueryLogGate, responseClass } from "./query-log-gate.ts";
import { RCODE, TYPE } from "./records.ts";
import { queryBytes, responseWith } from "./testing/messages.ts";

function withAnswers(rcode: number, answers: number): Buffer {
  const response = responseWith(rcode);
  response[7] = answers;
  return response;
}

describe("the class of an answer (CoreDNS's log classes)", () => {
  it("is success with records, denial for NXDOMAIN and NODATA, error for the rest and for no answer", () => {
    expect(responseClass(withAnswers(RCODE.NOERROR, 1))).toBe("success");
    expect(responseClass(withAnswers(RCODE.NOERROR, 0))).toBe("denial");
    expect(responseClass(withAnswers(RCODE.NXDOMAIN, 0))).toBe("denial");
    expect(responseClass(withAnswers(RCODE.SERVFAIL, 0))).toBe("error");
    expect(responseClass(withAnswers(RCODE.REFUSED, 0))).toBe("error");
    expect(responseClass(null)).toBe("error");
  });
});

describe("LogBudget", () => {
  it("lets a second's worth through at once, then the rate, and counts what it refused", () => {
    const clock = { ms: 0 };
    const budget = new LogBudget(3, () => clock.ms);
    expect([budget.take(), budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([0, 0, 0, null, null]);
    clock.ms += 1000 / 3;
    expect(budget.take()).toBe(2);
    expect(budget.take()).toBeNull();
    clock.ms += 10_000;
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([1, 0, 0, null]);
    expect(budget.dropped).toBe(4);
  });
});

describe("the query log with its gate", () => {
  function setup(settings = DEFAULT_LOG_SETTINGS) {
    const clock = { ms: 0 };
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const gate = new QueryLogGate(settings, () => clock.ms);
    const answers = new Map<string, Buffer>([
      ["ok.example", withAnswers(RCODE.NOERROR, 1)],
      ["nx.example", withAnswers(RCODE.NXDOMAIN, 0)],
      ["fail.example", withAnswers(RCODE.SERVFAIL, 0)],
    ]);
    const handler: QueryHandler = (message) => {
      const decoded = decodeQuery(message);
      return (decoded.ok ? answers.get(decoded.query.name) : undefined) ?? null;
    };
    const logged = logQueries(log, handler, gate);
    // The handler answers synchronously, so each line is written before ask returns.
    const ask = (name: string): void => void logged(queryBytes(name, TYPE.A), "udp", { address: "10.244.0.9", port: 1 });
    return { clock, lines, gate, ask };
  }

  it("writes only the configured classes, and a change of classes applies to the next query", () => {
    const { lines, gate, ask } = setup({ ...DEFAULT_LOG_SETTINGS, classes: ["denial", "error"] });
    for (const name of ["ok.example", "nx.example", "fail.example"]) ask(name);
    expect(lines.map((l) => [l["qname"], l["rcode"]])).toEqual([
      ["nx.example.", "NXDOMAIN"],
      ["fail.example.", "SERVFAIL"],
    ]);
    gate.configure({ ...DEFAULT_LOG_SETTINGS, classes: ["success"] });
    for (const name of ["ok.example", "nx.example"]) ask(name);
    expect(lines.slice(2).map((l) => l["qname"])).toEqual(["ok.example."]);
    expect(gate.dropped).toBe(0);
  });

  it("bounds a flood to the rate, says how many lines are missing, and counts them", () => {
    const { clock, lines, gate, ask } = setup({ ...DEFAULT_LOG_SETTINGS, rate: 10 });
    for (let i = 0; i < 1000; i++) ask("nx.example");
    expect(lines).toHaveLength(10);
    clock.ms += 100;
    ask("ok.example");
    expect(lines.slice(10).map((l) => [l["msg"], l["dropped"] ?? l["qname"]])).toEqual([
      ["query log lines dropped: over log.rate", 990],
      ["query", "ok.example."],
    ]);
    expect(gate.dropped).toBe(990);
    expect(logDroppedExposition(gate.dropped, 3)).toContain('signpost_dns_log_dropped_total{log="queries"} 990\nsignpost_dns_log_dropped_total{log="errors"} 3\n');
  });
});
