import { defineConfig } from "vitest/config";

// Two test files at once, not vitest's default of one per spare core (one
// on a 2-core machine): these suites wait on real servers, sockets and disks
// much of the time, and a second file fills those waits.
export default defineConfig({
  test: {
    maxWorkers: 2,
  },
});
