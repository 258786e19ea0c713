import { describe, expect, it } from "vitest";
import { stateOf, testConfig } from "../testing/render-harness.ts";
import { localPolicies, overall } from "../testing/scenarios.ts";
import { RenderCache } from "./render-cache.ts";
import { renderIptables } from "./render.ts";

describe("RenderCache", () => {
  const state = stateOf([...overall.services, ...localPolicies.services], [...overall.slices, ...localPolicies.slices]);

  it("gives the text a fresh render gives, sync after sync", () => {
    const cache = new RenderCache();
    const config = testConfig();
    const fresh = renderIptables({ state, config, changed: null }).text;
    expect(renderIptables({ state, config, changed: null, cache }).text).toBe(fresh);
    expect(renderIptables({ state, config, changed: null, cache }).text).toBe(fresh);
  });

  it("keeps every port for an equal config in a new object, and for the same object", () => {
    const cache = new RenderCache();
    const port = [...state.values()][0]?.[0];
    if (port === undefined) throw new Error("no port in the scenario");
    const first = cache.output(port, testConfig());
    const again = testConfig();
    expect(cache.output(port, again)).toBe(first);
    expect(cache.output(port, again)).toBe(first);
    expect(cache.output(port, testConfig({ masqueradeAll: true }))).not.toBe(first);
  });

  it("forgets every port when the config changes", () => {
    const cache = new RenderCache();
    renderIptables({ state, config: testConfig(), changed: null, cache });
    const changed = testConfig({ masqueradeAll: true, omitEndpointComments: true });
    const text = renderIptables({ state, config: changed, changed: null, cache }).text;
    expect(text).toBe(renderIptables({ state, config: changed, changed: null }).text);
    expect(text).not.toContain("! -s 10.0.0.0/8 -j KUBE-MARK-MASQ");
    expect(text).not.toContain('--comment "ns1/svc1:p80 -> 10.180.0.1:80"');
  });
});
