// Where the running daemon's code was loaded from: its bundle (dist/<daemon>.mjs, hack/bundle.ts)
// or the sources. In the bundle this module's URL is the bundle's own; logged at start, so an
// operator (and a test) can see which one runs.
import { fileURLToPath } from "node:url";

export interface CodeOrigin {
  readonly code: "bundle" | "sources";
  readonly file: string;
  readonly node: string;
}

export function codeOrigin(): CodeOrigin {
  const file = fileURLToPath(import.meta.url);
  return { code: file.endsWith(".mjs") ? "bundle" : "sources", file, node: process.version };
}
