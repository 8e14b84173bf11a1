import { defineConfig } from "vitest/config";

// Real databases on a machine that may be busy: timeouts only catch hangs.
export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the condition
  // tsconfig.base.json names too); vitest adds its own server conditions.
  ssr: { resolve: { conditions: ["@modelreg/source"] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
