// The esbuild set-up both daemons' bundles are built with (hack/bundle.ts): its plugins, and the
// options that go with them. Apart so that a test can bundle a small entry the same way
// (bundle-plugins.test.ts).
import http from "node:http";
import { fileURLToPath } from "node:url";
import type { BuildOptions, Plugin } from "esbuild";
import { isTrimmedImport, TRIMMED_SPECIFIER, trimmedGenUrl } from "../pkg/cli/client-node-trim.ts";

/** The repository's root, with a trailing slash. */
export const root = fileURLToPath(new URL("..", import.meta.url));

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

/**
 * client-node's proxy support, read in on first use. Its config.js imports socks,
 * socks-proxy-agent and hpagent (with ip-address, agent-base and debug under them) for a
 * kubeconfig's proxy-url alone, and each daemon would evaluate them at every start: about 35 ms
 * of signpost-proxy's start here, under load. In the bundle those three imports of config.js
 * are stand-ins that require the real package the first time one is used; the classes and the
 * one static method config.js uses behave as the originals. A stand-in that config.js no longer
 * matches (an import it does not provide) fails the build.
 */
/** A class whose construction builds the package's class of that name instead. */
const lazyClass = (pkg: string, name: string): string => `export class ${name} { constructor(...args) { return new (require("${pkg}").${name})(...args); } }`;
const PROXY_STAND_INS: Readonly<Record<string, string>> = {
  socks: `export const SocksClient = { createConnection: (...args) => require("socks").SocksClient.createConnection(...args) };`,
  "socks-proxy-agent": lazyClass("socks-proxy-agent", "SocksProxyAgent"),
  hpagent: [lazyClass("hpagent", "HttpProxyAgent"), lazyClass("hpagent", "HttpsProxyAgent")].join("\n"),
};
const CLIENT_NODE_CONFIG = /@kubernetes\/client-node\/dist\/config\.js$/;

const lazyProxySupport: Plugin = {
  name: "lazy-proxy-support",
  setup(b) {
    const namespace = "lazy-proxy-support";
    b.onResolve({ filter: /^(socks|socks-proxy-agent|hpagent)$/ }, (args) =>
      args.kind === "import-statement" && CLIENT_NODE_CONFIG.test(args.importer) ? { path: args.path, namespace } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: PROXY_STAND_INS[args.path], loader: "js", resolveDir: root }));
  },
};

/** The generated API's models and API classes: what the trim keeps out. */
export const GENERATED = /@kubernetes\/client-node\/dist\/gen\/(models|apis|types)\//;

/** How each daemon is bundled: one ES module for Node 24, identifiers kept, with the plugins above. */
export const BUNDLE_OPTIONS = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [trimClientNode, httpWithoutUndici, lazyProxySupport],
  // The CommonJS dependencies call require() for Node's own modules.
  banner: { js: "import { createRequire as __signpostRequire } from 'node:module'; const require = __signpostRequire(import.meta.url);" },
} satisfies BuildOptions;
