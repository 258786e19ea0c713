import { describe, expect, it } from "vitest";
import { ApiError } from "./api-client.ts";
import { initialEventsEnd, INITIAL_EVENTS_END, refusesStreamedList } from "./informer.ts";

describe("streamed lists", () => {
  it("end at the bookmark annotated k8s.io/initial-events-end, and at no other event", () => {
    const bookmark = (annotations?: Record<string, string>): { type: string; object: unknown } => ({ type: "BOOKMARK", object: { metadata: { resourceVersion: "42", ...(annotations === undefined ? {} : { annotations }) } } });
    expect(initialEventsEnd(bookmark({ [INITIAL_EVENTS_END]: "true" }))).toBe(true);
    expect(initialEventsEnd(bookmark())).toBe(false);
    expect(initialEventsEnd(bookmark({ [INITIAL_EVENTS_END]: "false" }))).toBe(false);
    expect(initialEventsEnd({ type: "ADDED", object: { metadata: { name: "a", annotations: { [INITIAL_EVENTS_END]: "true" } } } })).toBe(false);
    expect(initialEventsEnd({ type: "BOOKMARK", object: null })).toBe(false);
  });

  it("are given up for a list when the API server refuses them as a bad request, not on other failures", () => {
    const failure = (code: number): ApiError => new ApiError("WATCH /api/v1/services", { code, reason: "", message: "" });
    expect(refusesStreamedList(failure(422))).toBe(true);
    expect(refusesStreamedList(failure(400))).toBe(true);
    expect(refusesStreamedList(failure(403))).toBe(false);
    expect(refusesStreamedList(failure(500))).toBe(false);
    expect(refusesStreamedList(new Error("ECONNREFUSED"))).toBe(false);
  });
});
