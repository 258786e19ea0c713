// Vitest global setup for the integration project: one control plane shared by every test file
// (each file works in namespaces of its own), stopped when the run ends. Tests that must break
// the control plane start their own with startDedicatedControlPlane().
import type { TestProject } from "vitest/node";
import { ControlPlane } from "./localcluster/control-plane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cp = await ControlPlane.start({ log: (m) => console.error(`[control-plane] ${m}`) });
  console.error(`[control-plane] shared control plane ready in ${Date.now() - started} ms at ${cp.apiServerUrl}`);
  project.provide("kubeconfig", cp.kubeconfigPath);
  return async () => {
    await cp.stop();
  };
}
