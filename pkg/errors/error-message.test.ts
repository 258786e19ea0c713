import { describe, expect, it } from "vitest";
import { errorFirstLine, errorMessage } from "./error-message.ts";

describe("errorMessage", () => {
  it("gives an Error's message without its name or stack", () => {
    expect(errorMessage(new TypeError("bad port"))).toBe("bad port");
  });

  it("gives anything else thrown as String() writes it", () => {
    expect(errorMessage("refused")).toBe("refused");
    expect(errorMessage(42)).toBe("42");
    expect(errorMessage(undefined)).toBe("undefined");
  });
});

describe("errorFirstLine", () => {
  it("keeps the first line of a parser's message, not the excerpt under it", () => {
    expect(errorFirstLine(new Error("bad indentation of a mapping entry (3:5)\n\n 2 | a: 1\n 3 |  b: 2\n---------^"))).toBe("bad indentation of a mapping entry (3:5)");
    expect(errorFirstLine("one line")).toBe("one line");
  });
});
