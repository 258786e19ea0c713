// Whether this process runs under ./hack/test.sh (and so in CI), which sets SIGNPOST_RUN after
// installing everything the tests need. There a test never skips for a missing tool: it runs,
// and fails loudly if the tool is gone. Outside it (a developer's `vitest`), a test may skip
// when this machine lacks the tool, saying which.
export const underTestScript = process.env["SIGNPOST_RUN"] !== undefined;
