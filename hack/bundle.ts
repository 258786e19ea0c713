// Bundles each daemon into one file, dist/<daemon>.mjs, which its bin/ script runs while it is
// newer than every source (bin/entry.sh). hack/setup.sh runs this, so every hack/ script and the
// image (hack/image.sh) use the bundles; a source edited since runs from the sources until the
// next set-up.
// One file instead of ~400 modules: no module resolution at start (Node resolves each import
// through the trim hook, in JavaScript), no module records, less source held. Measured here on
// importing signpost-proxy's daemon module, compile cache warm: 115 ms and 93 MiB RSS from the
// sources, 55 ms and 71 MiB from the bundle.
// The bundle keeps every identifier (stack traces name the functions); only whitespace and
// syntax are minified. client-node's generated API is left out as from the sources
// (pkg/cli/client-node-trim.ts), and a bundle that holds any of it is refused.
//   node hack/bundle.ts      (prints each bundle's path and size)
import { statSync } from "node:fs";
import { build } from "esbuild";
import { BUNDLE_OPTIONS, GENERATED, root } from "./bundle-plugins.ts";

const DAEMONS = ["signpost-proxy", "signpost-dns"] as const;

for (const daemon of DAEMONS) {
  const outfile = `${root}dist/${daemon}.mjs`;
  const result = await build({ ...BUNDLE_OPTIONS, entryPoints: [`cmd/${daemon}/run.ts`], outfile });
  const generated = Object.keys(result.metafile.inputs).filter((input) => GENERATED.test(input));
  if (generated.length > 0) throw new Error(`${outfile} holds client-node's generated API (${generated.length} modules, e.g. ${generated[0]}): the trim did not apply`);
  process.stdout.write(`${outfile} ${(statSync(outfile).size / 1048576).toFixed(1)} MiB\n`);
}
