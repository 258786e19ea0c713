import type { V1Namespace } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { convertNamespace } from "./convert-namespace.ts";
import { editedFixture, expectInvalid, loadFixture, sharedReferences } from "./testdata/fixtures.ts";

describe("convertNamespace", () => {
  it("keeps only the name", () => {
    const input = loadFixture<V1Namespace>("namespace.json");
    const namespace = convertNamespace(input);
    expect(namespace).toEqual({ name: "apps" });
    expect(Object.isFrozen(namespace)).toBe(true);
    expect(sharedReferences(input, namespace)).toEqual([]);
  });

  it("refuses a Namespace without a name", () => {
    const input = editedFixture<V1Namespace>("namespace.json", (n) => n.metadata && delete n.metadata.name);
    expectInvalid(() => convertNamespace(input), "Namespace <no name>: metadata.name", "missing");
  });
});
