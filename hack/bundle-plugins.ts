// The esbuild set-up both daemons' bundles are built with (hack/bundle.ts): its plugins, and the
// options that go with them. Apart so that a test can bundle a small entry the same way
// (bundle-plugins.test.ts).
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import type { BuildOptions, Plugin } from "esbuild";
import { isTrimmedImport, TRIMMED_SPECIFIER, trimmedGenUrl } from "../pkg/cli/client-node-trim.ts";

/** The repository's root, with a trailing slash. */
export const root = fileURLToPath(new URL("..", import.meta.url));

/** A string as a regular expression that matches it literally (also as an esbuild filter). */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

const trimClientNode: Plugin = {
  name: "trim-client-node",
  setup(b) {
    const exactly = new RegExp(`^${escapeRegExp(TRIMMED_SPECIFIER)}$`);
    b.onResolve({ filter: exactly }, (args) => (isTrimmedImport(args.path, args.importer) ? { path: fileURLToPath(trimmedGenUrl) } : undefined));
  },
};

/**
 * Node's own modules without the costliest reads of their ESM facades. Importing a builtin as ESM
 * reads every export of it, and some exports are getters that load more: node:http's WebSocket,
 * CloseEvent and MessageEvent load Node's bundled undici (a script that imports nothing else:
 * 60.8 MiB RSS against 46.8 with require()); process.stdin opens a stream on fd 0; fs.ReadStream
 * and its kin, crypto.webcrypto and dns.promises load their modules (together about 30 ms of a
 * profile of signpost-dns's import). Every `import` of a builtin in the bundle gets a module that
 * takes it from process.getBuiltinModule and exports what the facade would, read once, but for
 * those getters (UNREAD_GETTERS); an import of one of them fails the build, and `import x from`
 * still gets the whole module. Plain exports, not the module as CommonJS: esbuild reads a
 * CommonJS module's exports through a getter at every use, and signpost-dns's start to ready at
 * 10,000 Services went from 1.78 to 2.3 s that way (medians of 6).
 */
const UNREAD_GETTERS: Readonly<Record<string, readonly string[]>> = {
  http: ["WebSocket", "CloseEvent", "MessageEvent"],
  process: ["stdin", "allowedNodeEnvironmentFlags"],
  fs: ["ReadStream", "WriteStream", "FileReadStream", "FileWriteStream", "Utf8Stream"],
  crypto: ["webcrypto", "subtle"],
  dns: ["promises"],
};
const BUILTIN = new RegExp(`^(node:.+|${builtinModules.map(escapeRegExp).join("|")})$`);

/** The module that stands in for a builtin's ESM facade (see above). */
export function builtinModuleSource(name: string): string {
  const bare = name.replace(/^node:/, "");
  const id = `node:${bare}`;
  const mod = process.getBuiltinModule(id) as object;
  const unread = new Set(UNREAD_GETTERS[bare] ?? []);
  // The facade reads the enumerable ones (deprecated exports are not).
  const names = Object.keys(mod).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key) && key !== "default" && !unread.has(key));
  return [
    `const mod = process.getBuiltinModule(${JSON.stringify(id)});`,
    "export default mod;",
    ...names.map((key, n) => `const x${n} = mod.${key};\nexport { x${n} as ${key} };`),
  ].join("\n");
}
const builtinsWithoutFacades: Plugin = {
  name: "builtins-without-facades",
  setup(b) {
    const namespace = "builtin-esm";
    b.onResolve({ filter: BUILTIN }, (args) => (args.kind === "import-statement" ? { path: args.path.replace(/^node:/, ""), namespace } : undefined));
    b.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: builtinModuleSource(args.path), loader: "js" }));
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

/**
 * undici without its index. The index evaluates every dispatcher, the mocks, the cache stores,
 * fetch, WebSocket and EventSource at each start (the largest part of the bundle's evaluation:
 * about 55 ms of signpost-proxy's import in a profile), while the daemons use an Agent and its
 * request(). Every import of "undici" in the bundle (ours and client-node's) gets this module
 * instead: the Agent and the request methods, as the index adds them to every dispatcher; the
 * rarer ProxyAgent (a kubeconfig's proxy-url) and fetch (client-node's Watch, health and log
 * calls, none of which the daemons make) load the real index on first use. An import it does not
 * provide fails the build.
 */
const UNDICI_PARTS = [
  `const Dispatcher = require("undici/lib/dispatcher/dispatcher.js");`,
  `Object.assign(Dispatcher.prototype, require("undici/lib/api/index.js"));`,
  `export const Agent = require("undici/lib/dispatcher/agent.js");`,
  lazyClass("undici/index.js", "ProxyAgent"),
  `export function fetch(...args) { return require("undici/index.js").fetch(...args); }`,
].join("\n");

const undiciParts: Plugin = {
  name: "undici-parts",
  setup(b) {
    const namespace = "undici-parts";
    b.onResolve({ filter: /^undici$/ }, (args) => (args.kind === "import-statement" ? { path: "undici", namespace } : undefined));
    b.onLoad({ filter: /.*/, namespace }, () => ({ contents: UNDICI_PARTS, loader: "js", resolveDir: root }));
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
  plugins: [trimClientNode, builtinsWithoutFacades, lazyProxySupport, undiciParts],
  // The CommonJS dependencies call require() for Node's own modules.
  banner: { js: "import { createRequire as __signpostRequire } from 'node:module'; const require = __signpostRequire(import.meta.url);" },
} satisfies BuildOptions;
