// The daemons run binaries (iptables-restore, conntrack, ip) with argument arrays and never
// through a shell, so no name, label or annotation from the API can be read as shell syntax.
// This scans the daemons' code for every way of reaching a shell from Node.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const daemonCode = ["cmd", "pkg/cli", "pkg/dns", "pkg/errors", "pkg/kube", "pkg/model", "pkg/proxy"];

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name));
}

const shellWays: readonly [string, RegExp][] = [
  ["a shell option", /\bshell\s*:/],
  ["execaCommand", /\bexecaCommand(Sync)?\b/],
  ["child_process exec", /import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*["']node:child_process["']/],
  ["sh -c", /["'](\/bin\/)?(ba)?sh["']\s*,\s*\[\s*["']-c["']/],
];

describe("no value from the API reaches a shell", () => {
  const files = daemonCode.flatMap(sources);

  it("finds the daemons' sources", () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it("runs every binary without a shell", () => {
    const found: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const [what, pattern] of shellWays) if (pattern.test(text)) found.push(`${relative(root, file)}: ${what}`);
    }
    expect(found).toEqual([]);
  });
});
