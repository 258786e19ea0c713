import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_LOG_SETTINGS, type LogSettings } from "./config/log-config.ts";
import { ErrorLog, reportingErrors } from "./error-log.ts";
import type { ForwardRequest } from "./query-handler.ts";
import { TYPE } from "./records.ts";

function setup(settings: LogSettings) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const clock = { ms: 0 };
  const errors = new ErrorLog(log, settings, { now: () => clock.ms });
  return { lines, errors, clock };
}

const timeouts: LogSettings = { ...DEFAULT_LOG_SETTINGS, consolidate: [{ periodMs: 60_000, pattern: /timed out$/, level: "warning" }] };

describe("the error log (CoreDNS's errors)", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("writes one line per error, and errors matching a consolidate rule once a period with their count", () => {
    const { lines, errors } = setup(timeouts);
    for (let i = 0; i < 7; i++) errors.report(`a${i}.example. A: upstream 10.0.0.1:53 timed out`);
    errors.report("b.example. AAAA: every upstream sends our queries back to us (a forwarding loop)");
    expect(lines.map((l) => [l["level"], l["msg"], l["error"]])).toEqual([
      [50, "query failed", "b.example. AAAA: every upstream sends our queries back to us (a forwarding loop)"],
    ]);
    vi.advanceTimersByTime(60_000);
    expect(lines.slice(1).map((l) => [l["level"], l["msg"], l["count"]])).toEqual([[40, "7 errors like 'timed out$' occurred in the last 60s", 7]]);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
    errors.close();
  });

  it("writes what is pending when the rules change, and follows the new ones", () => {
    const { lines, errors } = setup(timeouts);
    errors.report("a.example. A: upstream 10.0.0.1:53 timed out");
    errors.configure(DEFAULT_LOG_SETTINGS);
    errors.report("c.example. A: upstream 10.0.0.1:53 timed out");
    expect(lines.map((l) => l["msg"])).toEqual(["1 errors like 'timed out$' occurred in the last 60s", "query failed"]);
    errors.close();
  });

  it("bounds the lines it writes directly to the rate and counts the rest", () => {
    const { lines, errors, clock } = setup({ ...DEFAULT_LOG_SETTINGS, rate: 5 });
    for (let i = 0; i < 50; i++) errors.report(`x${i}.example. A: no answer`);
    expect(lines).toHaveLength(5);
    clock.ms += 1000;
    errors.report("y.example. A: no answer");
    expect(lines.slice(5).map((l) => l["dropped"] ?? l["error"])).toEqual([45, "y.example. A: no answer"]);
    expect(errors.dropped).toBe(45);
    errors.close();
  });

  it("is told of each failed forward with the question and the reason, and the failure still reaches the caller", async () => {
    const { lines, errors } = setup(DEFAULT_LOG_SETTINGS);
    const forward = reportingErrors(() => Promise.reject(new Error("upstream 10.0.0.1:53 timed out")), errors);
    const request: ForwardRequest = { message: Buffer.alloc(0), question: Buffer.alloc(0), name: "www.example.org", qtype: TYPE.AAAA, qclass: 1, dnssecOk: false, cd: false };
    await expect(forward(request)).rejects.toThrow("timed out");
    expect(lines.map((l) => l["error"])).toEqual(["www.example.org. AAAA: upstream 10.0.0.1:53 timed out"]);
    errors.close();
  });
});
