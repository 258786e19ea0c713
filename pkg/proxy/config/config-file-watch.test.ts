import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { watchConfigFile } from "./config-file-watch.ts";

const dir = mkdtempSync(join(tmpdir(), "signpost-config-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("watchConfigFile", () => {
  it("reports a change of content once, and nothing for a rewrite with the same content", async () => {
    const file = join(dir, "plain.yaml");
    writeFileSync(file, "a: 1\n");
    let changes = 0;
    const w = watchConfigFile(file, "a: 1\n", 10, { changed: () => changes++, unreadable: () => {} });
    writeFileSync(file, "a: 1\n");
    writeFileSync(file, "a: 2\n");
    await eventually(() => changes === 1, "the change is reported");
    writeFileSync(file, "a: 3\n");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(changes).toBe(1);
    w.stop();
  });

  it("sees a ConfigMap volume's update: the ..data symlink swapped to a new directory", async () => {
    const volume = join(dir, "volume");
    mkdirSync(join(volume, "..v1"), { recursive: true });
    writeFileSync(join(volume, "..v1", "config.conf"), "mode: iptables\n");
    symlinkSync("..v1", join(volume, "..data"));
    symlinkSync("..data/config.conf", join(volume, "config.conf"));
    let changed = false;
    const w = watchConfigFile(join(volume, "config.conf"), "mode: iptables\n", 10, { changed: () => (changed = true), unreadable: () => {} });
    mkdirSync(join(volume, "..v2"));
    writeFileSync(join(volume, "..v2", "config.conf"), "mode: iptables\nclusterCIDR: 10.244.0.0/16\n");
    symlinkSync("..v2", join(volume, "..data_tmp"));
    renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
    await eventually(() => changed, "the swapped content is reported");
    w.stop();
  });

  it("reports a file that cannot be read and keeps watching", async () => {
    const file = join(dir, "vanishing.yaml");
    writeFileSync(file, "a: 1\n");
    const errors: unknown[] = [];
    let changed = false;
    const w = watchConfigFile(file, "a: 1\n", 10, { changed: () => (changed = true), unreadable: (e) => errors.push(e) });
    unlinkSync(file);
    await eventually(() => errors.length > 0, "the missing file is reported");
    writeFileSync(file, "a: 2\n");
    await eventually(() => changed, "the new content is reported");
    w.stop();
  });
});
