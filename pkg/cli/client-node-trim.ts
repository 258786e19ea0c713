// The one import in @kubernetes/client-node that signpost answers with a module of its own: the
// module that defines KubeConfig imports the whole generated API (`./gen/index.js`: every model
// and every API class, ~1,700 modules) for two names, createConfiguration and
// ServerConfiguration, which only its makeApiClient uses. The daemons take KubeConfig (its
// kubeconfig parsing, credentials and TLS dispatcher) and RequestContext from the package and
// talk to the API server with their own requests.
// Measured on Node 24 here: importing KubeConfig took 1,025 ms and left the process at 123 MiB
// RSS (33 MiB heap, 20 MiB of module source); trimmed, 366 ms and 80 MiB (15 MiB heap).
// Two places apply it: the module hook for runs from the sources (trim-client-node.ts), and the
// bundler (hack/bundle.ts).

/** The module whose import is answered, by the end of its path. */
const IMPORTER = "/@kubernetes/client-node/dist/config.js";
/** Its import of the generated API. */
export const TRIMMED_SPECIFIER = "./gen/index.js";

/** The module exporting the same two names from their own files in the package. */
export const trimmedGenUrl = new URL("./client-node-configuration.ts", import.meta.url);

/** Whether `specifier`, imported by the module at `importer` (a URL or a path), is the one answered with trimmedGenUrl. */
export function isTrimmedImport(specifier: string, importer: string | undefined): boolean {
  return specifier === TRIMMED_SPECIFIER && importer?.endsWith(IMPORTER) === true;
}
