import { describe, expect, it } from "vitest";
import { objectKey } from "./key.ts";

describe("objectKey", () => {
  it("joins namespace and name as client-go does", () => {
    expect(objectKey("kube-system", "kube-dns")).toBe("kube-system/kube-dns");
  });
});
