// The server's --help and configuration errors.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { REPO_ROOT, SERVER_ARGS } from "./support/server.js";

it("lists its settings with --help", () => {
  const r = spawnSync(process.execPath, [...SERVER_ARGS, "--help"], { cwd: REPO_ROOT, encoding: "utf8" });
  expect(r.status).toBe(0);
  for (const name of ["PORT", "DATA_DIR", "DATABASE_URL", "HOST", "LOG_LEVEL", "SHUTDOWN_GRACE_MS"]) expect(r.stdout).toContain(name);
  expect(r.stdout).toContain("(default 8080)");
});

it("refuses a bad setting with exit code 2 and says what to fix", () => {
  const r = spawnSync(process.execPath, SERVER_ARGS, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, PORT: "eighty" } });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("PORT=eighty is not valid: expected a whole number from 0 to 65535");
});
