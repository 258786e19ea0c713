import { describe, expect, it } from "vitest";
import { parseDuration, parseFlags, parseSize, renderHelp, type FlagSpecs } from "./flags.ts";

const specs: FlagSpecs = {
  kubeconfig: { type: "string", help: "path to a kubeconfig" },
  "sync-period": { type: "duration", help: "full resync period", default: 30_000 },
  "metrics-port": { type: "integer", help: "metrics port", default: 10249 },
  pods: { type: "string", help: "pod records", default: "insecure", choices: ["disabled", "insecure", "verified"] },
  cleanup: { type: "boolean", help: "remove rules and exit" },
  "cache-bytes": { type: "size", help: "cache capacity", default: "32Mi" },
};

describe("parseDuration", () => {
  it.each([
    ["1s", 1000], ["500ms", 500], ["1m30s", 90_000], ["2h", 7_200_000], ["0.5s", 500], ["0", 0],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "1", "s", "1x", "1s junk", "-1s"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeNaN();
  });
});

describe("parseSize", () => {
  it.each([
    ["32Mi", 32 * 1024 * 1024], ["512Ki", 512 * 1024], ["1Gi", 1024 ** 3], ["1048576", 1_048_576], ["2M", 2_000_000], ["0", 0],
  ])("%s is %d bytes", (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(["", "Mi", "32mi", "32 Mi", "-1", "1.5Mi", "32MiB"])("%j is not a size", (text) => {
    expect(parseSize(text)).toBeNaN();
  });
});

describe("parseFlags", () => {
  it("fills defaults and converts values", () => {
    const { values } = parseFlags(["--kubeconfig", "/k", "--sync-period=1m", "--cleanup"], specs);
    expect(values).toMatchObject({ kubeconfig: "/k", "sync-period": 60_000, "metrics-port": 10249, pods: "insecure", cleanup: true, help: false });
  });

  it("names an unknown flag", () => {
    expect(() => parseFlags(["--nodeport-adresses=1.2.3.0/24"], specs)).toThrow(/SP_BAD_FLAG: --nodeport-adresses/);
  });

  it("names a flag with a malformed value, and says what was wrong", () => {
    expect(() => parseFlags(["--sync-period", "soon"], specs)).toThrow(/--sync-period: "soon" is not a duration/);
    expect(() => parseFlags(["--metrics-port", "x"], specs)).toThrow(/--metrics-port: "x" is not an integer/);
    expect(() => parseFlags(["--pods", "all"], specs)).toThrow(/--pods: "all" is not one of disabled, insecure, verified/);
    expect(() => parseFlags(["--cache-bytes", "32MB"], specs)).toThrow(/--cache-bytes: "32MB" is not a size in bytes/);
  });

  it("refuses a flag given twice rather than keep one silently", () => {
    expect(() => parseFlags(["--sync-period", "1s", "--sync-period=2s"], specs)).toThrow("SP_BAD_FLAG: --sync-period: given more than once");
  });

  it("refuses a flag that needs a value and has none", () => {
    expect(() => parseFlags(["--kubeconfig"], specs)).toThrow(/SP_BAD_FLAG: --kubeconfig/);
  });

  it("takes a negative number after an integer flag as its value, as Go's pflag does", () => {
    expect(parseFlags(["--metrics-port", "-5", "--cleanup"], specs).values).toMatchObject({ "metrics-port": -5, cleanup: true });
    expect(() => parseFlags(["--kubeconfig", "-5"], specs)).toThrow(/SP_BAD_FLAG: --kubeconfig/);
  });
});

describe("renderHelp", () => {
  it("lists every flag with its default", () => {
    const help = renderHelp("signpost-dns", "Cluster DNS.", specs);
    expect(help).toContain("--sync-period DURATION");
    expect(help).toContain("--cache-bytes SIZE");
    expect(help).toContain("(default insecure)");
    expect(help).toContain("--help");
  });

  it("keeps a flag too long for its column apart from its help", () => {
    const help = renderHelp("signpost-proxy", "Proxy.", { "conntrack-tcp-timeout-established": { type: "duration", help: "idle timeout of established TCP flows" } });
    expect(help).toContain("  --conntrack-tcp-timeout-established DURATION  idle timeout of established TCP flows");
    expect(help).toMatch(/^ {2}--help {26}show this help$/m);
  });
});
