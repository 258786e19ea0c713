// Golden text for representative clusters. The files under testdata/ were read line by line
// against kube-proxy's iptables proxier; regenerate with SIGNPOST_UPDATE_GOLDEN=1 after a
// deliberate change, and review the diff.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderAll } from "../testing/render-harness.ts";
import { scenarios } from "../testing/scenarios.ts";
import { KUBE_PROXY_CANARY } from "./chain-names.ts";
import { checkJumps } from "../../../test/support/jump-check.ts";

const update = process.env["SIGNPOST_UPDATE_GOLDEN"] === "1";

describe.each(scenarios)("render $name", (scenario) => {
  const result = renderAll(scenario.services, scenario.slices, scenario.config);

  it("matches the golden text", () => {
    const file = new URL(`./testdata/${scenario.name}.rules`, import.meta.url);
    if (update) writeFileSync(file, result.text);
    expect(result.text).toBe(readFileSync(file, "utf8"));
  });

  it("declares every jump target and uses every declared chain", () => {
    const withJumps = renderAll(scenario.services, scenario.slices, scenario.config, { includeBuiltinJumps: true });
    expect(checkJumps(withJumps.text, { allowUnused: new Set([KUBE_PROXY_CANARY]) })).toEqual([]);
  });

  it("counts the rules it writes", () => {
    expect(result.ruleCounts).toEqual(appendedRules(result.text));
    expect(result.writtenRules).toEqual(result.ruleCounts);
  });

  it("counts, in a partial render, only the rules it writes and still every rule of the state", () => {
    const partial = renderAll(scenario.services, scenario.slices, scenario.config, { changed: new Set(), canary: false });
    expect(partial.writtenRules).toEqual(appendedRules(partial.text));
    expect(partial.ruleCounts).toEqual(result.ruleCounts);
  });
});

/** The "-A" lines of each table's section of a restore text. */
function appendedRules(text: string): { filter: number; nat: number } {
  const lines = text.split("\n");
  const count = (table: string) => {
    const start = lines.indexOf(table);
    const end = lines.indexOf("COMMIT", start);
    return lines.slice(start, end).filter((l) => l.startsWith("-A ")).length;
  };
  return { filter: count("*filter"), nat: count("*nat") };
}
