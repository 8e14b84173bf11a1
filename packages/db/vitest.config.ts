import { defineConfig } from "vitest/config";

// Real databases on a machine that may be busy: timeouts only catch hangs.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
