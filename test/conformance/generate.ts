// hack/conformance.sh's last step: reads the JUnit reports of both runs and writes the summary page
// (docs/conformance.md for a full run). Exits 1 when a selected spec failed with signpost and
// passed with the reference, or, in a signpost-only run, when any selected spec failed.
//   node test/conformance/generate.ts --signpost DIR/junit_01.xml [--reference FILE] --out FILE
// `--filters [--subset]` prints the ginkgo focus and skip expressions instead, one a line.
import { readFile, writeFile } from "node:fs/promises";
import { parseFlags, stringFlag } from "../../pkg/cli/flags.ts";
import { runMain } from "../../pkg/cli/run-main.ts";
import { parseJUnit } from "./junit.ts";
import { renderReport, signpostOnlyFailures } from "./report.ts";
import { exclusionReason, ginkgoFilters, isCandidate } from "./selection.ts";

runMain("conformance-report", async () => {
  const { values } = parseFlags(process.argv.slice(2), {
    filters: { type: "boolean", help: "print the ginkgo focus and skip expressions", default: false },
    subset: { type: "boolean", help: "the focused subset instead of the whole selection", default: false },
    signpost: { type: "string", help: "JUnit report of the signpost run", default: "" },
    reference: { type: "string", help: "JUnit report of the reference run (absent: signpost only)", default: "" },
    out: { type: "string", help: "where to write the page", default: "" },
    "k8s-version": { type: "string", help: "the k8s.io/kubernetes version of e2e.test", default: "" },
    "reference-description": { type: "string", help: "what the reference cluster runs", default: "kube-proxy and CoreDNS" },
  });
  if (values["filters"] === true) {
    const { focus, skip } = ginkgoFilters(values["subset"] === true);
    process.stdout.write(`${focus}\n${skip}\n`);
    return;
  }
  const signpost = parseJUnit(await readFile(stringFlag(values, "signpost"), "utf8"));
  const referencePath = stringFlag(values, "reference");
  const reference = referencePath === "" ? undefined : parseJUnit(await readFile(referencePath, "utf8"));
  const input = {
    signpost, reference,
    k8sVersion: stringFlag(values, "k8s-version"),
    referenceDescription: stringFlag(values, "reference-description"),
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
  await writeFile(stringFlag(values, "out"), renderReport(input));

  const selectedFailures = signpost.specs
    .filter((s) => s.outcome === "failed" && isCandidate(s.name) && exclusionReason(s.name) === undefined)
    .map((s) => s.name);
  const bugs = reference === undefined ? selectedFailures : signpostOnlyFailures(input);
  for (const name of selectedFailures) {
    process.stderr.write(`${bugs.includes(name) ? "signpost failure" : "failed in both clusters"}: ${name}\n`);
  }
  if (bugs.length > 0) process.exitCode = 1;
});
