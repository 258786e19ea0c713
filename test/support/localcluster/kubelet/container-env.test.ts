import { describe, expect, it } from "vitest";
import { expandVars } from "./container-env.ts";

describe("expandVars", () => {
  it("expands $(VAR) from the environment and leaves unknown references alone", () => {
    expect(expandVars("--hostname-override=$(NODE_NAME)", { NODE_NAME: "node-1" })).toBe("--hostname-override=node-1");
    expect(expandVars("$(MISSING)", {})).toBe("$(MISSING)");
  });

  it("treats $$ as an escaped dollar", () => {
    expect(expandVars("$$(NODE_NAME)", { NODE_NAME: "x" })).toBe("$(NODE_NAME)");
  });
});
