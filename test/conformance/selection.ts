// Which of e2e.test's specs hack/conformance.sh runs, and why each of the others is left out.
// One table serves both ends: the ginkgo focus and skip expressions are made from it, and the
// report gives each skipped spec the reason of the first exclusion that matches its name.
// The patterns are written in the common subset of JavaScript's and Go's (RE2) syntax.

export interface Exclusion {
  readonly pattern: string;
  readonly reason: string;
}

/** The candidates: sig-network's [Conformance] specs and every sig-network DNS spec. */
export const CANDIDATES = String.raw`\[sig-network\] .*(\[Conformance\]|DNS)`;

/** The focused subset for CI: one Services and two DNS conformance specs, signpost only. */
export const SUBSET = String.raw`\[sig-network\] (Services should serve a basic endpoint from pods|DNS should provide DNS for services|DNS should provide DNS for the cluster) +\[Conformance\]`;

export const EXCLUSIONS: readonly Exclusion[] = [
  { pattern: String.raw`\[Disruptive\]`, reason: "[Disruptive]: restarts or breaks cluster components; not part of a shared run" },
  { pattern: String.raw`\[Feature:PerformanceDNS\]`, reason: "[Feature:PerformanceDNS] [Serial]: creates the maximum number of services per cluster, a load test, not a behaviour check" },
  { pattern: String.raw`DNS configMap`, reason: "[Serial] [Slow]: rewrites the cluster DNS's own ConfigMap (the CoreDNS Corefile or kube-dns stubDomains) and restarts it; a configuration format of CoreDNS, not a behaviour of cluster DNS" },
  { pattern: String.raw`\[Serial\]`, reason: "[Serial]: changes cluster-wide state, run alone" },
  { pattern: String.raw`Internet connection`, reason: "needs the internet (resolves and reaches a name outside the cluster), which this machine must not send packets to" },
  { pattern: String.raw`\[Provider:`, reason: "provider-specific: needs a cloud provider's network (and the internet)" },
  { pattern: String.raw`\[Feature:`, reason: "[Feature:...]: needs a cluster feature that a default kind cluster does not have" },
  { pattern: String.raw`\[Alpha\]`, reason: "[Alpha]: needs an alpha feature gate, off by default" },
];

/** The ginkgo --focus and --skip values for a run of the whole selection or of the subset. */
export function ginkgoFilters(subset: boolean): { focus: string; skip: string } {
  return {
    focus: subset ? SUBSET : CANDIDATES,
    skip: EXCLUSIONS.map((e) => e.pattern).join("|"),
  };
}

export function isCandidate(name: string): boolean {
  return new RegExp(CANDIDATES).test(name);
}

/** The reason the selection leaves this spec out, or undefined when it is selected. */
export function exclusionReason(name: string): string | undefined {
  return EXCLUSIONS.find((e) => new RegExp(e.pattern).test(name))?.reason;
}
