// A pino logger that keeps its lines for assertions, for unit tests of the proxy's wiring.
import pino from "pino";

export function memoryLogger(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const kept: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void kept.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines: () => kept };
}
