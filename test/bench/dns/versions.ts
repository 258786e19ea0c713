// The versions the DNS section's report names: signpost (package version and commit), CoreDNS,
// dnsperf, dnsmasq, kube-apiserver and Node.js, each read from the binary that ran, and the
// machine's CPU and kernel.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { controlPlaneBinDir } from "../../support/localcluster/binaries.ts";
import { machineVersions } from "../machine.ts";

const root = join(import.meta.dirname, "..", "..", "..");

function firstLine(command: string, args: readonly string[], pattern: RegExp): string {
  try {
    const out = execFileSync(command, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    return pattern.exec(out)?.[0] ?? out.trim().split("\n")[0] ?? "unknown";
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    const text = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    return pattern.exec(text)?.[0] ?? "unknown";
  }
}

export function signpostVersion(): string {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string };
  const commit = firstLine("git", ["-C", root, "rev-parse", "--short", "HEAD"], /^[0-9a-f]+/);
  return `${pkg.version ?? "unknown"} (${commit})`;
}

export function dnsVersions(corednsBinary: string | null): Record<string, string> {
  return {
    "signpost-dns": signpostVersion(),
    coredns: corednsBinary === null ? "missing" : firstLine(corednsBinary, ["-version"], /CoreDNS-[0-9.]+/),
    dnsperf: firstLine("dnsperf", ["-h"], /Version [0-9.]+/).replace("Version ", ""),
    dnsmasq: firstLine("dnsmasq", ["--version"], /version [0-9.]+/).replace("version ", ""),
    "kube-apiserver": firstLine(join(controlPlaneBinDir(), "kube-apiserver"), ["--version"], /v[0-9.]+/),
    node: process.version,
    ...machineVersions(),
  };
}
