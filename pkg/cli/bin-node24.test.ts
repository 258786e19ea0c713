// bin/node24, which picks the node every bin runs: the cached Node.js 24 or later by its
// directory's name, without starting any node to ask its version; else the node on PATH when it
// says it is new enough. Driven through sh with stand-in nodes (shell scripts that print what
// they were asked), so which one ran, and whether any was asked its version, shows in the output.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const NODE24 = new URL("../../bin/node24", import.meta.url).pathname;
let root = "";

/** A stand-in node at `path` that answers --version with `version` and otherwise names itself and its arguments. */
function fakeNode(path: string, version: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const script = [
    "#!/bin/sh",
    `if [ "$1" = --version ]; then echo "asked ${path}" >>"${root}/asked"; echo ${version}; exit 0; fi`,
    `echo "ran ${path} $* cache=\${NODE_COMPILE_CACHE-unset}"`,
  ].join("\n");
  writeFileSync(path, `${script}\n`);
  chmodSync(path, 0o755);
}

function node24(env: Record<string, string> = {}): { status: number | null; out: string; err: string; asked: string } {
  const r = spawnSync("sh", [NODE24, "app.mjs", "--flag"], {
    encoding: "utf8",
    env: { PATH: `${root}/path:/usr/bin:/bin`, HOME: root, SIGNPOST_CACHE: `${root}/cache`, ...env },
  });
  const asked = existsSync(`${root}/asked`) ? readFileSync(`${root}/asked`, "utf8").trim() : "";
  return { status: r.status, out: r.stdout.trim(), err: r.stderr, asked };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bin-node24-"));
  mkdirSync(join(root, "path"));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("bin/node24", () => {
  it("runs the cached Node.js 24 with the arguments and the compile cache, asking no node its version", () => {
    fakeNode(`${root}/cache/node-v24.22.3/bin/node`, "v24.22.3");
    fakeNode(`${root}/path/node`, "v25.0.0");
    const r = node24();
    expect(r.status).toBe(0);
    expect(r.out).toBe(`ran ${root}/cache/node-v24.22.3/bin/node app.mjs --flag cache=${root}/cache/compile-cache`);
    expect(r.asked).toBe("");
  });

  it("takes a later major from the cache too, and keeps an empty NODE_COMPILE_CACHE (the compile cache off)", () => {
    fakeNode(`${root}/cache/node-v26.1.0/bin/node`, "v26.1.0");
    const r = node24({ NODE_COMPILE_CACHE: "" });
    expect(r.out).toBe(`ran ${root}/cache/node-v26.1.0/bin/node app.mjs --flag cache=`);
  });

  it("passes over a cached node older than 24, a cached directory without a node, and a name that is no version", () => {
    fakeNode(`${root}/cache/node-v20.19.0/bin/node`, "v20.19.0");
    mkdirSync(`${root}/cache/node-v24.1.0/bin`, { recursive: true });
    fakeNode(`${root}/cache/node-vnext/bin/node`, "v99.0.0");
    fakeNode(`${root}/path/node`, "v24.5.0");
    const r = node24();
    expect(r.status).toBe(0);
    expect(r.out).toBe(`ran ${root}/path/node app.mjs --flag cache=${root}/cache/compile-cache`);
    expect(r.asked).toBe(`asked ${root}/path/node`);
  });

  it("refuses, with what to run, when neither the cache nor PATH has Node.js 24 or later", () => {
    fakeNode(`${root}/cache/node-v22.0.0/bin/node`, "v22.0.0");
    fakeNode(`${root}/path/node`, "v20.19.0");
    const r = node24();
    expect(r.status).toBe(127);
    expect(r.out).toBe("");
    expect(r.err).toContain("Node.js 24 or later is needed; run ./hack/setup.sh");
  });
});
