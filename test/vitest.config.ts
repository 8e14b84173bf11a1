import { defineConfig } from "vitest/config";

// End-to-end suites start real server processes: give them time, and run
// files one after another so the 2-core machine is not oversubscribed.
export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the condition
  // tsconfig.base.json names too); vitest adds its own server conditions.
  ssr: { resolve: { conditions: ["@modelreg/source"] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    setupFiles: ["./support/setup.ts"],
  },
});
