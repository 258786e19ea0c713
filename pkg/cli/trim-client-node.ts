// Loads only the part of @kubernetes/client-node the daemons use. They take KubeConfig (its
// kubeconfig parsing, credentials and TLS dispatcher) and RequestContext from it, and talk to the
// API server with their own requests; but the module that defines KubeConfig imports the whole
// generated API (`./gen/index.js`: every model and every API class, ~1,700 modules) for two
// names, createConfiguration and ServerConfiguration, which only its makeApiClient uses.
// Measured on Node 24 here: importing KubeConfig took 1,025 ms and left the process at 123 MiB
// RSS (33 MiB heap, 20 MiB of module source); through this hook 366 ms and 80 MiB (15 MiB heap).
//
// The hook answers that one import, from that one module, with a module exporting the same two
// names from their own files in the package. Every other resolution is left alone. It must be
// registered before the module graph that reaches KubeConfig is resolved, which for ES modules is
// before the entry point's static imports: the entry points import this module, then the rest
// of the program with a dynamic import().
import { registerHooks } from "node:module";

const FROM = "/@kubernetes/client-node/dist/config.js";
const SPECIFIER = "./gen/index.js";

/** Where config.js's import of the generated API goes instead. */
const trimmedGenUrl = new URL("./client-node-configuration.ts", import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === SPECIFIER && context.parentURL?.endsWith(FROM) === true) return { url: trimmedGenUrl, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
