// signpost-dns's entry point: the module hook that keeps client-node's generated API out of the
// process goes in first, then the program (run.ts) is loaded through it.
import "../../pkg/cli/trim-client-node.ts";

await import("./run.ts");
