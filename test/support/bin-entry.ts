// What a daemon's bin script runs now, by bin/entry.sh's own rule: "bundle" (dist/<daemon>.mjs,
// fresh since hack/setup.sh built it) or "sources". The daemon's "starting" line must say the same.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const bin = join(import.meta.dirname, "..", "..", "bin");

export function binRuns(daemon: "signpost-proxy" | "signpost-dns"): "bundle" | "sources" {
  const entry = execFileSync("sh", ["-c", `here=${JSON.stringify(bin)}; daemon=${daemon}; . "$here/entry.sh"; printf %s "$entry"`], { encoding: "utf8" });
  return entry.endsWith(".mjs") ? "bundle" : "sources";
}
