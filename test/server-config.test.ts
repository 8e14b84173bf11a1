// The server's --help and configuration errors.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, SERVER_ARGS, tempDir } from "./support/server.js";
import { E2E_ADMIN_TOKEN } from "./support/setup.js";

it("lists its settings with --help", () => {
  const r = spawnSync(process.execPath, [...SERVER_ARGS, "--help"], { cwd: REPO_ROOT, encoding: "utf8" });
  expect(r.status).toBe(0);
  for (const name of ["PORT", "DATA_DIR", "DATABASE_URL", "HOST", "LOG_LEVEL", "SHUTDOWN_GRACE_MS", "METRICS_PORT", "METRICS_HOST"]) expect(r.stdout).toContain(name);
  expect(r.stdout).toContain("(default 8080)");
});

it("refuses a bad setting with exit code 2 and one JSON line that says what to fix", () => {
  const r = spawnSync(process.execPath, SERVER_ARGS, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, PORT: "eighty" } });
  expect(r.status).toBe(2);
  expect(r.stderr, "nothing on stderr: no stack trace, no warning").toBe("");
  expect(failureLine(r.stdout)).toMatchObject({ level: 60, exitCode: 2, msg: "PORT=eighty is not valid: expected a whole number from 0 to 65535 (run with --help for every setting)" });
});

/** Every line on stdout is JSON (pino); exactly one is an error or worse, and it is the last. */
function failureLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const failures = lines.filter((l) => (l.level as number) >= 50);
  expect(failures, stdout).toHaveLength(1);
  expect(lines.at(-1)).toBe(failures[0]);
  return failures[0]!;
}

describe("a server that cannot start logs one JSON line saying what to fix, and exits 1", () => {
  const start = (env: Record<string, string>) => {
    const data = tempDir();
    try {
      const r = spawnSync(process.execPath, SERVER_ARGS, {
        cwd: REPO_ROOT,
        encoding: "utf8",
        // The admin key given, as support/server.ts does: a first start that gets
        // as far as the database would otherwise announce the key it created on
        // stderr (for a person at a terminal), which is not what is looked at here.
        env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATABASE_URL: "", DATA_DIR: data.path, MODELREG_ADMIN_KEY: E2E_ADMIN_TOKEN, ...env },
        timeout: 60_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(1);
      // The JSON line is all: no stack trace or warning on stderr.
      expect(r.stderr, "nothing on stderr").toBe("");
      return failureLine(r.stdout);
    } finally {
      data.remove();
    }
  };

  it("a DATABASE_URL nothing answers at", () => {
    // Port 1 on loopback: nothing listens, so the connection is refused.
    const line = start({ DATABASE_URL: "postgres://modelreg:secret-password@127.0.0.1:1/modelreg" });
    expect(line.msg).toBe(
      "cannot connect to the database at 127.0.0.1:1 (ECONNREFUSED): check that PostgreSQL runs there and that DATABASE_URL is right; DATABASE_CONNECT_TIMEOUT_MS bounds each attempt",
    );
    expect(JSON.stringify(line)).not.toContain("secret-password");
    expect(line).toMatchObject({ level: 60, exitCode: 1, err: expect.objectContaining({ code: "ECONNREFUSED" }) });
  });

  it("a DATA_DIR that cannot be written", () => {
    const dir = tempDir();
    try {
      // A file where the directory should be: a directory nobody can create under it, even as root.
      const file = join(dir.path, "not-a-dir");
      writeFileSync(file, "");
      const line = start({ DATA_DIR: file });
      expect(line.msg).toMatch(/^cannot write .*not-a-dir\/pg \(ENOTDIR: not a directory, mkdir '.*'\): DATA_DIR \(.*not-a-dir\) must be a directory this user can create and write; set DATA_DIR or fix its permissions$/);
    } finally {
      dir.remove();
    }
  });

  it("a PORT another process listens on", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const line = start({ PORT: String(port) });
      expect(line.msg).toBe(`cannot listen on 127.0.0.1:${port}: another process uses that port; stop it or set PORT to a free port`);
      // And METRICS_PORT is named when it is the one taken.
      expect(start({ METRICS_PORT: String(port) }).msg).toBe(`cannot listen on 127.0.0.1:${port}: another process uses that port; stop it or set METRICS_PORT to a free port`);
    } finally {
      taken.close();
    }
  });
});
