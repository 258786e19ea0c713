// What client-node's dist/config.js imports from its generated API, from the two files that
// define it, without the rest of the generated API. See client-node-trim.ts.
export { createConfiguration } from "@kubernetes/client-node/dist/gen/configuration.js";
export { ServerConfiguration } from "@kubernetes/client-node/dist/gen/servers.js";
