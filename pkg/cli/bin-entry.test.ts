// bin/entry.sh, which picks what a daemon's bin script runs: the bundle while it is newer than
// every source file, else the sources. Driven through sh on a tree of empty files whose times
// are set one by one.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { binEntry } from "../../test/support/bin-entry.ts";

let root = "";

/** A file at `path` under the tree, with its modification time `seconds` after the epoch. */
function file(path: string, seconds: number): void {
  const full = join(root, path);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, "");
  utimesSync(full, seconds, seconds);
}

function entry(): string {
  return binEntry(join(root, "bin"), "signpost-dns").replace(`${root}/bin/../`, "");
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bin-entry-"));
  mkdirSync(join(root, "bin"));
  file("cmd/signpost-dns/main.ts", 1000);
  file("pkg/dns/daemon.ts", 1000);
  file("package-lock.json", 1000);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("bin/entry.sh", () => {
  it("runs the bundle when it is newer than every source", () => {
    file("dist/signpost-dns.mjs", 2000);
    expect(entry()).toBe("dist/signpost-dns.mjs");
  });

  it("runs the sources when there is no bundle", () => {
    expect(entry()).toBe("cmd/signpost-dns/main.ts");
  });

  it("runs the sources when any source file, or the lockfile, changed after the bundle was built", () => {
    file("dist/signpost-dns.mjs", 2000);
    for (const edited of ["pkg/dns/daemon.ts", "cmd/signpost-dns/main.ts", "package-lock.json"]) {
      file(edited, 3000);
      expect(entry(), edited).toBe("cmd/signpost-dns/main.ts");
      file(edited, 1000);
    }
    expect(entry()).toBe("dist/signpost-dns.mjs");
  });

  it("ignores directories' times (an image's COPY gives them the time of the build)", () => {
    file("dist/signpost-dns.mjs", 2000);
    utimesSync(join(root, "pkg/dns"), 3000, 3000);
    expect(entry()).toBe("dist/signpost-dns.mjs");
  });
});
