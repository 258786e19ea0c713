import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDnsCommandLine } from "../daemon-flags.ts";
import { configFromText } from "./config-reload.ts";
import { describeConfig, restartOnlyChanges } from "./effective-config.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-log-config-"));
const resolvConf = join(dir, "resolv.conf");
writeFileSync(resolvConf, "nameserver 10.0.0.10\n");
const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const file = "/etc/signpost/dns.yaml";

function load(body: string) {
  const parsed = parseDnsCommandLine(["--upstream", resolvConf]);
  if (parsed.help) throw new Error("help");
  return configFromText(parsed.config, head + body, file);
}

describe("the log section of the --config file", () => {
  it("reads classes, the rate and the error consolidation rules", () => {
    const config = load(`
log:
  queries: true
  classes: [denial, error]
  rate: 500
  errors:
    consolidate:
      - {period: 5m, pattern: "timed out$", level: warning}
      - {period: 30s, pattern: "^.*\\\\.local\\\\. "}
`);
    expect(config.daemon.queryLog).toBe(true);
    expect(config.daemon.log).toMatchObject({ classes: ["denial", "error"], rate: 500 });
    expect(config.daemon.log?.consolidate.map((c) => [c.periodMs, c.pattern.source, c.level])).toEqual([
      [300_000, "timed out$", "warning"],
      [30_000, "^.*\\.local\\. ", "error"],
    ]);
    expect(describeConfig(config)["log"]).toEqual({
      queries: true,
      classes: ["denial", "error"],
      rate: 500,
      consolidate: [
        { periodMs: 300_000, pattern: "timed out$", level: "warning" },
        { periodMs: 30_000, pattern: "^.*\\.local\\. ", level: "error" },
      ],
    });
  });

  it("defaults to every class at 100 lines a second with no consolidation", () => {
    expect(load("log: {queries: true}\n").daemon.log).toEqual({ classes: ["all"], rate: 100, consolidate: [] });
  });

  it("refuses bad values, naming the field", () => {
    expect(() => load("log: {classes: [success, failures]}\n")).toThrow(`SP_BAD_CONFIG: ${file}: log.classes[1]: "failures" is not one of all, success, denial, error`);
    expect(() => load("log: {classes: []}\n")).toThrow(/log\.classes: must be a list of at least one/);
    expect(() => load("log: {rate: 0}\n")).toThrow(/log\.rate: must be a whole number of lines a second from 1 to 100000, not 0/);
    expect(() => load("log: {errors: {consolidate: [{period: 5m, pattern: '(unclosed'}]}}\n")).toThrow(/log\.errors\.consolidate\[0\]\.pattern: "\(unclosed" is not a regular expression/);
    expect(() => load("log: {errors: {consolidate: [{period: 10ms, pattern: x}]}}\n")).toThrow(/log\.errors\.consolidate\[0\]\.period: must be a duration from 1s to 24h/);
    expect(() => load("log: {errors: {consolidate: [{period: 1m, pattern: x, level: fatal}]}}\n")).toThrow(/log\.errors\.consolidate\[0\]\.level: "fatal" is not one of error, warning, info, debug/);
    expect(() => load("log: {errors: {stacktrace: true}}\n")).toThrow(/log\.errors\.stacktrace: is not a field of log\.errors; known: consolidate/);
  });

  it("is applied live: a change to it is not a restart-only change", () => {
    expect(restartOnlyChanges(load("log: {queries: true}\n"), load("log: {queries: true, classes: [error], rate: 10}\n"))).toEqual([]);
  });
});
