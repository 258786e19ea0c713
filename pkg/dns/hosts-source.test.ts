import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { HostsSource, readBounded } from "./hosts-source.ts";
import { TYPE } from "./records.ts";

const dir = mkdtempSync(join(tmpdir(), "hosts-source-"));
const lines: Record<string, unknown>[] = [];
const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
const base = { zones: ["."], ttl: 60, reverse: true, fallthrough: ["."], reloadMs: 0, maxFileBytes: 64 };
const addresses = (source: HostsSource, name: string) => source.answer(name, TYPE.A)?.answer.flatMap((s) => s.records.map((r) => ("address" in r ? r.address : "")));

describe("hosts source", () => {
  it("serves the file under the inline entries, re-reads it when it changes, and keeps the last version when it grows past its bound", async () => {
    const file = join(dir, "hosts");
    writeFileSync(file, "10.0.0.1 a.example\n10.0.0.2 b.example\n");
    const source = new HostsSource({ ...base, entries: ["192.0.2.1 b.example"], file }, log);
    await source.start();
    expect(addresses(source, "a.example")).toEqual(["10.0.0.1"]);
    expect(addresses(source, "b.example")).toEqual(["192.0.2.1"]);

    writeFileSync(file, "10.0.0.3 a.example\n10.0.0.4 c.example\n");
    await source.check();
    expect(addresses(source, "a.example")).toEqual(["10.0.0.3"]);
    expect(addresses(source, "c.example")).toEqual(["10.0.0.4"]);

    writeFileSync(file, `10.0.0.5 a.example\n${"#".repeat(100)}\n`);
    await source.check();
    expect(addresses(source, "a.example")).toEqual(["10.0.0.3"]);
    expect(lines.some((l) => typeof l["msg"] === "string" && l["msg"].includes("SP_HOSTS_FILE_TOO_LARGE"))).toBe(true);
    source.stop();
  });

  it("keeps the entries its predecessor read from the same file when the file is refused after a reload", async () => {
    const file = join(dir, "reloaded");
    writeFileSync(file, "10.0.0.1 a.example\n");
    const first = new HostsSource({ ...base, entries: [], file }, log);
    await first.start();
    writeFileSync(file, `10.0.0.2 a.example\n${"#".repeat(100)}\n`);
    const next = new HostsSource({ ...base, entries: ["192.0.2.9 n.example"], file }, log, first);
    await next.start();
    expect(addresses(next, "a.example")).toEqual(["10.0.0.1"]);
    expect(addresses(next, "n.example")).toEqual(["192.0.2.9"]);
    const elsewhere = new HostsSource({ ...base, entries: ["192.0.2.9 n.example"], file: join(dir, "absent") }, log, first);
    await elsewhere.start();
    expect(elsewhere.answer("a.example", TYPE.A)).toBeNull();
  });

  it("serves the inline entries when the file is missing", async () => {
    const source = new HostsSource({ ...base, entries: ["192.0.2.1 b.example"], file: join(dir, "absent") }, log);
    await source.start();
    expect(addresses(source, "b.example")).toEqual(["192.0.2.1"]);
    expect(source.answer("a.example", TYPE.A)).toBeNull();
  });

  it("reads at most one byte past the bound", async () => {
    const file = join(dir, "big");
    writeFileSync(file, "x".repeat(10));
    await expect(readBounded(file, 10)).resolves.toBe("x".repeat(10));
    await expect(readBounded(file, 9)).rejects.toThrow("SP_HOSTS_FILE_TOO_LARGE");
  });
});
