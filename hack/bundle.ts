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
import http from "node:http";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { isTrimmedImport, TRIMMED_SPECIFIER, trimmedGenUrl } from "../pkg/cli/client-node-trim.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const DAEMONS = ["signpost-proxy", "signpost-dns"] as const;

const trimClientNode: Plugin = {
  name: "trim-client-node",
  setup(b) {
    const exactly = new RegExp(`^${TRIMMED_SPECIFIER.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
    b.onResolve({ filter: exactly }, (args) => (isTrimmedImport(args.path, args.importer) ? { path: fileURLToPath(trimmedGenUrl) } : undefined));
  },
};

/**
 * node:http without its ESM facade. Importing a builtin as ESM reads every export, and three of
 * node:http's (WebSocket, CloseEvent, MessageEvent) are getters that load Node's bundled undici.
 * Measured here: a script that imports nothing else, 60.8 MiB RSS against 46.8 with require();
 * in the daemons about 1 MiB (signpost-proxy's heap 0.9 MiB and its external memory 0.8 MiB
 * less; signpost-dns at 1,000 Services, 4 alternating runs, VmRSS median 94.6 -> 93.8 MiB). The
 * bundle takes the module from process.getBuiltinModule and exports what the code imports of it,
 * every export but those three.
 */
const httpWithoutUndici: Plugin = {
  name: "http-without-undici",
  setup(b) {
    const namespace = "builtin-http";
    b.onResolve({ filter: /^(node:)?http$/ }, () => ({ path: "node:http", namespace }));
    b.onLoad({ filter: /.*/, namespace }, () => {
      const names = Object.keys(http).filter((name) => !["WebSocket", "CloseEvent", "MessageEvent"].includes(name));
      const contents = [
        `const http = process.getBuiltinModule("node:http");`,
        "export default http;",
        ...names.map((name) => `export const ${name} = http.${name};`),
      ].join("\n");
      return { contents, loader: "js" };
    });
  },
};

/** The generated API's models and API classes: what the trim keeps out. */
const GENERATED = /@kubernetes\/client-node\/dist\/gen\/(models|apis|types)\//;

for (const daemon of DAEMONS) {
  const outfile = `${root}dist/${daemon}.mjs`;
  const result = await build({
    absWorkingDir: root,
    entryPoints: [`cmd/${daemon}/run.ts`],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [trimClientNode, httpWithoutUndici],
    // The CommonJS dependencies call require() for Node's own modules.
    banner: { js: "import { createRequire as __signpostRequire } from 'node:module'; const require = __signpostRequire(import.meta.url);" },
  });
  const generated = Object.keys(result.metafile.inputs).filter((input) => GENERATED.test(input));
  if (generated.length > 0) throw new Error(`${outfile} holds client-node's generated API (${generated.length} modules, e.g. ${generated[0]}): the trim did not apply`);
  process.stdout.write(`${outfile} ${(statSync(outfile).size / 1048576).toFixed(1)} MiB\n`);
}
