// Loads only the part of @kubernetes/client-node the daemons use, when they run from the sources
// (the bundle, hack/bundle.ts, is built the same way): a module hook answers the one import
// client-node-trim.ts names and leaves every other resolution alone. It must be registered
// before the module graph that reaches KubeConfig is resolved, which for ES modules is before
// the entry point's static imports: the entry points import this module, then the rest of the
// program with a dynamic import().
import { registerHooks } from "node:module";
import { isTrimmedImport, trimmedGenUrl } from "./client-node-trim.ts";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (isTrimmedImport(specifier, context.parentURL)) return { url: trimmedGenUrl.href, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
