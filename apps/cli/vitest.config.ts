import { defineConfig } from "vitest/config";

// These suites run real servers, databases and sockets on a small machine
// that may be busy: timeouts here only catch hangs (vitest's default of 5 s
// per test is a speed limit, not a hang check); what a test promises about
// time it asserts itself. Two test files run at once, not vitest's default
// of one per spare core: the suites wait on servers, sockets and disks much
// of the time, and a second file fills those waits.
export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the condition
  // tsconfig.base.json names too); vitest adds its own server conditions.
  ssr: { resolve: { conditions: ["@modelreg/source"] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
