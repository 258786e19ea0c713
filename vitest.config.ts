import { defineConfig } from "vitest/config";

// Unit tests are pure and fast; integration and end-to-end tests need root, network
// namespaces and the control plane that hack/test.sh builds, so they run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["pkg/**/*.test.ts", "cmd/**/*.test.ts"],
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
    ],
  },
});
