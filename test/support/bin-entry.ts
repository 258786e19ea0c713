// What a daemon's bin script runs, by bin/entry.sh's own rule: the bundle (dist/<daemon>.mjs,
// fresh since hack/setup.sh built it) or the sources. The daemon's "starting" line must say the same.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const entrySh = join(import.meta.dirname, "..", "..", "bin", "entry.sh");
const repoBin = join(import.meta.dirname, "..", "..", "bin");

/** The file bin/entry.sh picks for `daemon` when the bin scripts live in `binDir`. */
export function binEntry(binDir: string, daemon: string): string {
  const script = `here=${JSON.stringify(binDir)}; daemon=${daemon}; . ${JSON.stringify(entrySh)}; printf %s "$entry"`;
  return execFileSync("sh", ["-c", script], { encoding: "utf8" });
}

export function binRuns(daemon: "signpost-proxy" | "signpost-dns"): "bundle" | "sources" {
  return binEntry(repoBin, daemon).endsWith(".mjs") ? "bundle" : "sources";
}
