import { defineConfig } from "vitest/config";

// The server's suites run real databases (PGlite in-process, PostgreSQL), a
// real S3 server and real HTTP servers, in parallel with the other
// workspaces' suites on a small machine: a call that takes 1 s alone can take
// several under that load. Timeouts here only catch hangs; what a test
// promises about time it asserts itself.
//
// Two test files at once, not vitest's default of one per spare core (one
// on this 2-core machine): the suites wait on databases, sockets and disks
// much of the time, and a second file fills those waits.
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
