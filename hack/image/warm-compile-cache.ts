// Run while the image is built (Dockerfile), once per user the daemons run as: loads every
// module of both daemons, the way their main.ts do (the client-node trim first), and exits
// without starting anything, so that Node's compile cache (NODE_COMPILE_CACHE) holds them all
// stripped of their types and compiled. A daemon started from the image then reads them from
// the cache instead of parsing and transpiling them again.
import "../../pkg/cli/trim-client-node.ts";

await import("../../pkg/proxy/daemon.ts");
await import("../../pkg/dns/daemon.ts");
