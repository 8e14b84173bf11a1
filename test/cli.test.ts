// The bundled CLI against a real server process: the README's quickstart
// exactly as written, JSON output for scripts, and exit codes that follow
// the error code.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT, startServer, tempDir, type ServerProcess } from "./support/server.js";

const BIN = join(REPO_ROOT, "apps/cli/dist/modelreg.mjs");
let server: ServerProcess;
// The server makes its own admin key at first start, as after `npm start`;
// the CLI finds it in DATA_DIR/admin.key with no key in the environment.
const data = tempDir();
const config = tempDir("modelreg-cli-config-");

function cli(args: string[], env: Record<string, string> = {}, cwd = REPO_ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, MODELREG_SERVER: server.url, MODELREG_ACCESS_KEY: "", DATA_DIR: data.path, MODELREG_CONFIG_DIR: config.path, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The shell lines of the README code block that follows `heading`. */
function readmeBlock(heading: string, nth = 0): string[] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(heading));
  const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)][nth]?.[1];
  expect(block, `README has a sh block under ${heading}`).toBeTruthy();
  return block!.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
}

/** Splits a shell line into words, honouring double quotes (enough for the README). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

beforeAll(async () => {
  server = await startServer({ dataDir: data.path, env: { MODELREG_ADMIN_KEY: "" } });
});
afterAll(async () => {
  await server?.stop();
  data.remove();
  config.remove();
});

it("runs the README quickstart and exports blocks as written, writing only under the working directory", () => {
  // A working directory holding what the quickstart names (README.md, proto/, the ModelArts sample), at the same paths.
  const work = tempDir("modelreg-quickstart-");
  cpSync(join(REPO_ROOT, "README.md"), join(work.path, "README.md"));
  cpSync(join(REPO_ROOT, "proto"), join(work.path, "proto"), { recursive: true });
  const sample = "packages/sdk/src/testing/modelarts-import.json";
  mkdirSync(join(work.path, dirname(sample)), { recursive: true });
  cpSync(join(REPO_ROOT, sample), join(work.path, sample));
  // Anything written to the home directory or the temp directory would land in these.
  const home = tempDir("modelreg-quickstart-home-");
  const tmp = tempDir("modelreg-quickstart-tmp-");
  const env: Record<string, string> = { HOME: home.path, TMPDIR: tmp.path, XDG_CACHE_HOME: "", XDG_CONFIG_HOME: "", MODELREG_CACHE_DIR: "" };
  const run = (line: string) => {
    const exported = /^export (\w+)=(\S+)$/.exec(line);
    if (exported) {
      env[exported[1]!] = exported[2]!;
      return undefined;
    }
    expect(line.startsWith("npx modelreg "), `${line}: bare modelreg is not on PATH after npm install`).toBe(true);
    const r = cli(words(line.slice("npx modelreg ".length)), env, work.path);
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    return r;
  };
  try {
    const lines = readmeBlock("## CLI quickstart");
    expect(lines.length).toBeGreaterThan(5);
    // The quickstart ends by deleting what it made: the exports block runs before that.
    const deletes = lines.filter((l) => / delete /.test(l));
    expect(lines.slice(-deletes.length)).toEqual(deletes);
    for (const line of lines.slice(0, -deletes.length)) {
      const r = run(line);
      if (line.startsWith("npx modelreg pull fraud-detector -d")) expect(r!.stderr).toMatch(/newest READY version/);
    }
    // The exports block, up to what needs a second registry: it exports the quickstart's 2.0.0.
    const exportsBlock = readmeBlock("## Exports");
    for (const line of exportsBlock) expect(line.startsWith("npx modelreg "), line).toBe(true);
    let uid = "";
    for (const line of exportsBlock) {
      if (/ (cancel|delete|import) /.test(line)) continue;
      const r = run(line.replace(/ \| jq .*$/, "").replaceAll("<uid>", uid));
      if (line.includes("export fraud-detector:2.0.0 ")) expect(existsSync(join(work.path, "fraud.tar.gz"))).toBe(true);
      if (line.includes("-o json")) uid = (JSON.parse(r!.stdout) as { uid: string }).uid;
    }
    expect(existsSync(join(work.path, "archives"))).toBe(true);
    for (const line of deletes) run(line);
    // Nothing outside the working directory: the digest cache is under data/.
    expect(readdirSync(home.path)).toEqual([]);
    expect(readdirSync(tmp.path)).toEqual([]);
    expect(existsSync(join(work.path, "data/cache/digests"))).toBe(true);
    expect(existsSync(join(work.path, "data/pulled/fraud-detector-2.0.1/buf.gen.yaml"))).toBe(true);
  } finally {
    work.remove();
    home.remove();
    tmp.remove();
  }
});

it("runs the README's workspaces-and-keys block as written", () => {
  let token = "";
  for (const line of readmeBlock("## Workspaces, keys and the audit log")) {
    const args = words(line.slice("npx modelreg ".length)).map((w) => (w === "<token>" ? token : w === "http://localhost:8080" ? server.url : w));
    const r = cli(args);
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    token ||= /AK[A-Z2-7]{16}\.[A-Za-z0-9_-]{43}/.exec(r.stdout)?.[0] ?? "";
    if (line.includes("audit list")) expect(r.stdout).toContain("CreateAccessKey");
    if (line.includes("whoami")) expect(r.stdout).toMatch(/alice/);
  }
  expect(token).not.toBe("");
  // The profile file holds the key, readable by its owner only.
  const profiles = join(config.path, "profiles.json");
  expect(statSync(profiles).mode & 0o777).toBe(0o600);
  expect(cli(["logout"]).code).toBe(0);
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
