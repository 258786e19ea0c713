// deploy/ is what operators apply, so the real kube-apiserver must accept every object in it
// (server-side dry run), and the roles must grant each daemon what it reads and nothing it
// does not need.
import { describe, expect, inject, it } from "vitest";
import { execa } from "execa";
import { join } from "node:path";
import { controlPlaneBinDir } from "../support/localcluster/binaries.ts";

const kubectl = join(controlPlaneBinDir(), "kubectl");
const deployDir = join(import.meta.dirname, "..", "..", "deploy");

async function k(...args: string[]): Promise<string> {
  const r = await execa(kubectl, ["--kubeconfig", inject("kubeconfig"), ...args]);
  return r.stdout;
}

async function can(sa: string, verb: string, resource: string): Promise<boolean> {
  const r = await execa(kubectl, ["--kubeconfig", inject("kubeconfig"), "auth", "can-i", verb, resource, `--as=system:serviceaccount:kube-system:${sa}`], { reject: false });
  return r.stdout.trim() === "yes";
}

/** Everything `kubectl auth can-i --list` says the service account may do with resources, as "resource: verbs". */
async function grantedRules(sa: string): Promise<string[]> {
  const r = await execa(kubectl, ["--kubeconfig", inject("kubeconfig"), "auth", "can-i", "--list", "-n", "kube-system", `--as=system:serviceaccount:kube-system:${sa}`]);
  // Every authenticated user may review its own access (system:basic-user); those rows are not ours.
  const everyone = new Set(["selfsubjectreviews.authentication.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io", "selfsubjectrulesreviews.authorization.k8s.io"]);
  return r.stdout
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s{2,}/))
    .filter((cols) => cols.length >= 4 && cols[0] !== undefined && cols[0] !== "" && !cols[0].startsWith("[") && !everyone.has(cols[0]))
    .map((cols) => `${cols[0] ?? ""}: ${cols[3] ?? ""}`)
    .sort();
}

describe("deploy/", () => {
  it("renders with kustomize into the objects an operator expects", async () => {
    const out = await execa(kubectl, ["kustomize", deployDir]);
    const kinds = [...out.stdout.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]).sort();
    expect(kinds).toEqual([
      "ClusterRole", "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding", "ConfigMap", "ConfigMap", "DaemonSet",
      "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceAccount",
    ]);
    expect(out.stdout).toContain("image: signpost/signpost:0.1.0");
  });

  it("is accepted whole by the real kube-apiserver in a server-side dry run", async () => {
    const out = await k("apply", "-k", deployDir, "--dry-run=server");
    const lines = out.split("\n").filter((l) => l.includes("(server dry run)"));
    expect(lines.length).toBe(12);
    expect(out).toContain("service/kube-dns created (server dry run)");
    expect(out).toContain("daemonset.apps/signpost-proxy created (server dry run)");
    expect(out).toContain("deployment.apps/signpost-dns created (server dry run)");
  });

  it("grants each daemon what it reads, and no more", async () => {
    for (const f of ["proxy-rbac.yaml", "dns-rbac.yaml"]) await k("apply", "-n", "kube-system", "-f", join(deployDir, f));
    for (const [verb, resource] of [["list", "services"], ["watch", "services"], ["watch", "endpointslices.discovery.k8s.io"], ["watch", "nodes"]] as const) {
      expect(await can("signpost-proxy", verb, resource), `proxy may ${verb} ${resource}`).toBe(true);
    }
    for (const [verb, resource] of [["watch", "services"], ["watch", "endpointslices.discovery.k8s.io"], ["watch", "namespaces"], ["watch", "pods"]] as const) {
      expect(await can("signpost-dns", verb, resource), `dns may ${verb} ${resource}`).toBe(true);
    }
    for (const sa of ["signpost-proxy", "signpost-dns"]) {
      for (const [verb, resource] of [["get", "secrets"], ["create", "services"], ["delete", "endpointslices.discovery.k8s.io"], ["update", "nodes"], ["create", "pods"]] as const) {
        expect(await can(sa, verb, resource), `${sa} must not ${verb} ${resource}`).toBe(false);
      }
    }
    // Neither daemon records Events, so neither may create them.
    for (const sa of ["signpost-proxy", "signpost-dns"]) expect(await can(sa, "create", "events")).toBe(false);
  });

  it("grants exactly the rules each daemon needs, as the API server lists them", async () => {
    for (const f of ["proxy-rbac.yaml", "dns-rbac.yaml"]) await k("apply", "-n", "kube-system", "-f", join(deployDir, f));
    expect(await grantedRules("signpost-proxy")).toEqual([
      "endpointslices.discovery.k8s.io: [list watch]",
      "nodes: [list watch]",
      "services: [list watch]",
    ]);
    expect(await grantedRules("signpost-dns")).toEqual([
      "endpointslices.discovery.k8s.io: [list watch]",
      "namespaces: [list watch]",
      "pods: [list watch]",
      "services: [list watch]",
    ]);
  });
});
