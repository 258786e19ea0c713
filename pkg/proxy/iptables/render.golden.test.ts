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
    const lines = result.text.split("\n");
    const count = (table: string) => {
      const start = lines.indexOf(table);
      const end = lines.indexOf("COMMIT", start);
      return lines.slice(start, end).filter((l) => l.startsWith("-A ")).length;
    };
    expect(result.ruleCounts).toEqual({ filter: count("*filter"), nat: count("*nat") });
  });
});
