// The bundled CLI against a real server process: the README's quickstart
// exactly as written, JSON output for scripts, and exit codes that follow
// the error code.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT, startServer, type ServerProcess } from "./support/server.js";

const BIN = join(REPO_ROOT, "apps/cli/bin/modelreg.mjs");
let server: ServerProcess;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, MODELREG_SERVER: server.url, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Splits a shell line into words, honouring double quotes (enough for the README). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

it("runs the README quickstart as written", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const block = /## CLI quickstart[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "README has a CLI quickstart block").toBeTruthy();
  const lines = block!.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
  expect(lines.length).toBeGreaterThan(5);
  for (const line of lines) {
    expect(line.startsWith("npx modelreg ")).toBe(true);
    const r = cli(words(line.slice("npx modelreg ".length)));
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
  }
});

it("prints JSON for scripts and tables for people", () => {
  expect(cli(["models", "create", "json-demo", "--label", "team=risk"]).code).toBe(0);
  for (let i = 0; i < 3; i++) expect(cli(["versions", "create", "json-demo"]).code).toBe(0);
  const list = cli(["versions", "list", "json-demo", "--output", "json"]);
  expect(list.code).toBe(0);
  const parsed = JSON.parse(list.stdout) as { version: string; name: string }[];
  expect(parsed.map((v) => v.version)).toEqual(["1.0.2", "1.0.1", "1.0.0"]);
  const got = JSON.parse(cli(["versions", "get", "json-demo:1.0.1", "-o", "json"]).stdout);
  expect(got).toMatchObject({ name: "workspaces/default/models/json-demo/versions/1.0.1", version: "1.0.1" });
  const table = cli(["models", "list"]);
  expect(table.stdout).toMatch(/NAME/);
  expect(table.stdout).toContain("json-demo");
});

it("exits with 10 + the gRPC code and says what to fix", () => {
  const missing = cli(["versions", "get", "json-demo:9.9.9"]);
  expect(missing.code).toBe(15);
  expect(missing.stderr).toContain("workspaces/default/models/json-demo/versions/9.9.9 not found");

  const invalid = cli(["models", "create", "9-lives"]);
  expect(invalid.code).toBe(13);
  expect(invalid.stderr).toMatch(/model_id: .*not a valid model name/);

  expect(cli(["models", "create", "json-demo"]).code).toBe(16);
  expect(cli(["models", "delete", "json-demo"]).code).toBe(19);
  expect(cli(["models", "update", "json-demo", "--description", "x", "--etag", "stale"]).code).toBe(20);

  const down = cli(["models", "list"], { MODELREG_SERVER: "http://127.0.0.1:1" });
  expect(down.code).toBe(24);
  expect(down.stderr).toMatch(/npm start/);

  const usage = cli(["versions", "get"]);
  expect(usage.code).toBe(2);
});
