import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { errorCodes } from "./errors.ts";
import { errorsDoc } from "./errors-doc.ts";

describe("docs/errors.md", () => {
  it("is the catalogue as errors-doc.ts writes it (regenerate: node pkg/errors/errors-doc.ts > docs/errors.md)", () => {
    expect(readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8")).toBe(errorsDoc());
  });

  it("gives every code a summary, a cause and a fix", () => {
    for (const [code, entry] of Object.entries(errorCodes)) {
      for (const part of [entry.summary, entry.cause, entry.fix]) expect(part.length, code).toBeGreaterThan(10);
    }
  });
});
