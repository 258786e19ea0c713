import { describe, expect, it } from "vitest";
import { parseJUnit } from "./junit.ts";
import { renderReport, signpostOnlyFailures } from "./report.ts";
import { exclusionReason, ginkgoFilters, isCandidate } from "./selection.ts";

// The shape e2e.test --report-dir writes (ginkgo's JUnit reporter, failure message attribute off).
function junit(cases: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" disabled="2" errors="0" failures="1" time="600.5">
  <testsuite name="Kubernetes e2e suite" package="/" tests="5" time="600.5">
    <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed" time="1.2"></testcase>
${cases}
  </testsuite>
</testsuites>`;
}

const basic = '[sig-network] Services should serve a basic endpoint from pods [Conformance]';
const dnsSvc = "[sig-network] DNS should provide DNS for services [Conformance]";
const gce = "[sig-network] DNS should provide DNS for the cluster [Provider:GCE]";
const ptr = "[sig-network] DNS configMap nameserver Forward PTR lookup should forward PTR records lookup to upstream nameserver [Slow] [Serial]";
const storage = "[sig-storage] PVC should do things [Conformance]";

const signpostXml = junit(`
    <testcase name="[It] ${basic}" classname="Kubernetes e2e suite" status="passed" time="20"></testcase>
    <testcase name="[It] ${dnsSvc}" classname="Kubernetes e2e suite" status="failed" time="300">
      <failure type="failed">[FAILED] Unable to read jessie_udp@dns-test-service from pod dns-5/dns-test-1: the server could not find the requested resource &#xA;In [It] at: dns_common.go:459</failure>
    </testcase>
    <testcase name="${gce}" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
    <testcase name="${ptr}" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
    <testcase name="${storage}" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>`);

const referenceXml = junit(`
    <testcase name="${basic}" classname="Kubernetes e2e suite" status="passed" time="20"></testcase>
    <testcase name="${dnsSvc}" classname="Kubernetes e2e suite" status="passed" time="30"></testcase>
    <testcase name="${gce}" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>`);

describe("parseJUnit", () => {
  it("reads each spec's outcome and what ginkgo said about it, without the suite's own nodes", () => {
    const suite = parseJUnit(signpostXml);
    expect(suite.seconds).toBe(600.5);
    expect(suite.specs.map((s) => [s.name, s.outcome])).toEqual([
      [basic, "passed"], [dnsSvc, "failed"], [gce, "skipped"], [ptr, "skipped"], [storage, "skipped"],
    ]);
    expect(suite.specs[1]?.detail).toBe(
      "Unable to read jessie_udp@dns-test-service from pod dns-5/dns-test-1: the server could not find the requested resource",
    );
  });

  it("keeps a skip message given at run time", () => {
    const suite = parseJUnit(junit(
      `<testcase name="${basic}" status="skipped" time="1"><skipped message="skipped - Only supported for providers [gce gke] (not skeleton)"/></testcase>`,
    ));
    expect(suite.specs[0]?.detail).toBe("skipped - Only supported for providers [gce gke] (not skeleton)");
  });
});

describe("selection", () => {
  it("takes sig-network conformance and DNS specs, and gives a reason for each one it leaves out", () => {
    expect(isCandidate(basic)).toBe(true);
    expect(isCandidate(storage)).toBe(false);
    expect(exclusionReason(basic)).toBeUndefined();
    expect(exclusionReason(gce)).toMatch(/provider-specific/);
    expect(exclusionReason(ptr)).toMatch(/ConfigMap/);
    expect(exclusionReason("[sig-network] Networking should provider Internet connection for containers using DNS [Feature:Networking-DNS]"))
      .toMatch(/needs the internet/);
  });

  it("makes ginkgo's skip expression from the same exclusions", () => {
    const { focus, skip } = ginkgoFilters(false);
    expect(new RegExp(focus).test(dnsSvc)).toBe(true);
    expect(new RegExp(skip).test(gce)).toBe(true);
    expect(new RegExp(skip).test(dnsSvc)).toBe(false);
    expect(new RegExp(ginkgoFilters(true).focus).test(basic)).toBe(true);
  });
});

describe("renderReport", () => {
  const input = {
    signpost: parseJUnit(signpostXml),
    reference: parseJUnit(referenceXml),
    k8sVersion: "v1.36.3",
    referenceDescription: "kube-proxy and CoreDNS",
    generatedAt: "2026-12-04T15:00:00Z",
  };

  it("shows both results of each selected spec and the failure", () => {
    const page = renderReport(input);
    expect(page).toContain(`| ${basic} | pass | pass |  |`);
    expect(page).toContain(`| ${dnsSvc} | FAIL | pass | signpost: Unable to read jessie_udp@dns-test-service`);
    expect(page).toContain("| failed | 1 | 0 |");
    expect(page).toContain("Failed with signpost only (signpost's bugs): 1.");
  });

  it("lists every candidate left out with its reason, and nothing outside sig-network", () => {
    const page = renderReport(input);
    expect(page).toContain(`| ${gce} | provider-specific`);
    expect(page).toContain(`| ${ptr} | [Serial] [Slow]`);
    expect(page).not.toContain("sig-storage");
  });

  it("names the specs that failed only with signpost", () => {
    expect(signpostOnlyFailures(input)).toEqual([dnsSvc]);
    expect(signpostOnlyFailures({ ...input, reference: undefined })).toEqual([]);
  });
});
