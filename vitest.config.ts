import { defineConfig } from "vitest/config";

// Unit tests are pure and fast; integration and end-to-end tests need root, network
// namespaces and the control plane that hack/test.sh builds, so they run one file at a time.
// Integration files share one control plane; each end-to-end file brings up a local cluster.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["pkg/**/*.test.ts", "cmd/**/*.test.ts", "hack/**/*.test.ts", "test/support/**/*.test.ts", "test/bench/**/*.test.ts", "test/conformance/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-control-plane.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
