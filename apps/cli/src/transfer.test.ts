// push, pull and versions files end to end: run() against the real server
// on loopback (HTTP byte paths, PGlite, a temp blob store), files in a temp
// working directory.
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { parse as parseYaml } from "yaml";
import { expectOk, runCli } from "./testing/cli-run.js";

let server: TestServer;
let cwd: string;
beforeAll(async () => {
  server = await startTestServer("pglite");
  cwd = await mkdtemp(join(tmpdir(), "cli-transfer-"));
  await mkdir(join(cwd, "export", "weights"), { recursive: true });
  await writeFile(join(cwd, "export", "config.json"), '{"layers": 2}');
  await writeFile(join(cwd, "export", "weights", "model.bin"), Buffer.alloc(300_000, 9));
  await writeFile(join(cwd, "export", "empty.txt"), "");
  await writeFile(join(cwd, "model.onnx"), "onnx bytes");
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function cli(argv: string[], options: { tty?: boolean; signal?: AbortSignal } = {}) {
  return runCli(["--server", server.url, ...argv], bufferIo({}, { cwd, tty: options.tty ?? false }), options.signal ? { signal: options.signal } : {});
}

async function ok(...argv: string[]) {
  return expectOk(argv, await cli(argv));
}

describe("push, files, pull", () => {
  it("pushes a file into a new auto-numbered version and a directory into a named one", async () => {
    await ok("models", "create", "fraud");
    const first = (await ok("push", "model.onnx", "fraud", "-o", "json")).json();
    expect(first).toMatchObject({ version: "1.0.0", state: "VERSION_STATE_READY", fileCount: "1", totalSizeBytes: "10" });

    const tree = (await ok("push", "export", "fraud:2.0.0", "--description", "tree", "-o", "json")).json();
    expect(tree).toMatchObject({ version: "2.0.0", description: "tree", state: "VERSION_STATE_READY", fileCount: "3", totalSizeBytes: String(300_000 + 13) });
    expect(tree.manifestDigest).toMatch(/^sha256:/);

    // Table output: the version view with its state and files.
    const table = await ok("push", "export", "fraud:2.1.0");
    expect(table.stdout).toMatch(/^State:\s+ready$/m);
    expect(table.stdout).toMatch(/^Files:\s+3 \(300013 bytes\)$/m);
    expect(table.stderr).toBe("");
  });

  it("lists a version's files as a table or JSON", async () => {
    const lines = (await ok("versions", "files", "fraud:2.0.0")).stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^PATH\s+SIZE\s+SHA256\s+MD5\s+MEDIA TYPE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["config.json", "empty.txt", "weights/model.bin"]);
    expect(lines[1]).toMatch(/^config\.json\s+13 B\s+[0-9a-f]{12}\s+\S+\s+application\/json$/);
    const files = (await ok("versions", "files", "fraud:2.0.0", "-o", "json")).json();
    expect(files).toHaveLength(3);
    expect(files[2]).toMatchObject({ path: "weights/model.bin", sizeBytes: "300000", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("pulls into ./<model>-<version>, verifies, and skips what is already there", async () => {
    const pulled = (await ok("pull", "fraud:2.0.0", "-o", "json")).json();
    expect(pulled.map((f: { path: string }) => f.path).sort()).toEqual(["config.json", "empty.txt", "weights/model.bin"]);
    expect(pulled.every((f: { downloaded: boolean }) => f.downloaded)).toBe(true);
    const dir = join(cwd, "fraud-2.0.0");
    expect(await readFile(join(dir, "config.json"), "utf8")).toBe('{"layers": 2}');
    expect(Buffer.compare(await readFile(join(dir, "weights", "model.bin")), Buffer.alloc(300_000, 9))).toBe(0);
    expect(await readFile(join(dir, "empty.txt"), "utf8")).toBe("");

    const again = await ok("pull", "fraud:2.0.0");
    expect(again.stdout.split("\n")[0]).toMatch(/^PATH\s+SIZE\s+LOCAL PATH\s+STATUS$/);
    expect(again.stdout.match(/unchanged/g)).toHaveLength(3);
  });

  it("pulls the latest version without :version, into --dir, over streams too", async () => {
    const latest = (await ok("pull", "fraud", "--dir", "latest", "--transport", "stream", "-o", "json")).json();
    expect(latest[0].localPath).toBe(join(cwd, "latest", "config.json"));
    expect(await readFile(join(cwd, "latest", "weights", "model.bin"))).toHaveLength(300_000);
    const viaStream = (await ok("push", "model.onnx", "fraud:3.0.0", "--transport", "stream", "--protocol", "grpc", "-o", "json")).json();
    expect(viaStream).toMatchObject({ version: "3.0.0", state: "VERSION_STATE_READY" });
  });

  it("takes -o <dir> as where to pull to, beside -o json", async () => {
    const table = await ok("pull", "fraud:2.0.0", "-o", "o-dir");
    expect(table.stdout.split("\n")[0]).toMatch(/^PATH\s+SIZE\s+LOCAL PATH\s+STATUS$/);
    expect(await readFile(join(cwd, "o-dir", "weights", "model.bin"))).toHaveLength(300_000);
    const json = (await ok("pull", "fraud:2.0.0", "-d", "o-dir", "-o", "json")).json();
    expect(json[0].localPath).toBe(join(cwd, "o-dir", "config.json"));
  });

  it("replaces a READY version's files only with --overwrite", async () => {
    const refused = await cli(["push", "model.onnx", "fraud:2.0.0"]);
    expect(refused.code).toBe(19);
    expect(refused.stderr).toMatch(/^error: /);
    expect(refused.stderr).toContain("hint: the version has files already; add --overwrite");
    const replaced = (await ok("push", "model.onnx", "fraud:2.0.0", "--overwrite", "-o", "json")).json();
    expect(replaced).toMatchObject({ version: "2.0.0", fileCount: "1" });
  });

  it("exits with the error's code: usage, not found, failed precondition", async () => {
    expect((await cli(["push", "no-such-file", "fraud"])).code).toBe(2);
    expect((await cli(["push", "model.onnx", "ghost:1.0.0"])).code).toBe(15);
    expect((await cli(["pull", "ghost:1.0.0"])).code).toBe(15);
    expect((await cli(["pull", "ghost"])).code).toBe(15);
    await ok("versions", "create", "fraud:9.0.0");
    const pending = await cli(["pull", "fraud:9.0.0", "-o", "json"]);
    expect(pending.code).toBe(19);
    expect(pending.stdout).toBe("");
    expect(JSON.parse(pending.stderr.trimEnd().split("\n").at(-1)!).error).toMatchObject({ code: "failed_precondition", reason: "VERSION_PENDING" });
    expect(pending.stderr).toContain("hint: the version has no committed files yet; push files to it first");
    expect((await cli(["versions", "files", "fraud:9.0.0"])).code).toBe(19);
  });

  it("says when push created a version it could not fill, and exits 130 when interrupted", async () => {
    await mkdir(join(cwd, "linked"));
    await symlink(join(cwd, "model.onnx"), join(cwd, "linked", "model.onnx"));
    const refused = await cli(["push", "linked", "fraud:5.0.0"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is a symbolic link");
    expect(refused.stderr).toContain("note: version workspaces/default/models/fraud/versions/5.0.0 was created for this push and has no files yet");

    const interrupted = await cli(["pull", "fraud:2.1.0", "--dir", "interrupted"], { signal: AbortSignal.abort(new Error("interrupted")) });
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toBe("interrupted\n");
    expect(await stat(join(cwd, "interrupted")).catch(() => undefined)).toBeUndefined();
  });

  it("pulls the newest READY version without :version, saying which, and past a newer PENDING one", async () => {
    await ok("models", "create", "ranker");
    await ok("push", "model.onnx", "ranker:1.0.0");
    await ok("push", "export", "ranker:1.1.0");
    await ok("versions", "create", "ranker:2.0.0"); // PENDING: no files yet
    const r = await ok("pull", "ranker", "-o", "json");
    expect(r.stderr).toBe("pulling ranker:1.1.0, the newest READY version (2.0.0 is PENDING)\n");
    expect(r.json().map((f: { localPath: string }) => f.localPath).sort()).toEqual(
      ["config.json", "empty.txt", "weights/model.bin"].map((p) => join(cwd, "ranker-1.1.0", p)),
    );
    // The newest is READY: just which.
    await ok("push", "model.onnx", "ranker:2.0.0");
    expect((await ok("pull", "ranker", "-d", "newest")).stderr).toBe("pulling ranker:2.0.0, the newest READY version\n");

    // Named explicitly, a PENDING version still fails, through an alias too.
    await ok("versions", "create", "ranker:3.0.0");
    await ok("aliases", "set", "ranker", "canary", "3.0.0");
    for (const ref of ["ranker:3.0.0", "ranker@canary"]) {
      const pending = await cli(["pull", ref]);
      expect(pending.code, ref).toBe(19);
      expect(pending.stderr).toContain("hint: the version has no committed files yet");
    }
    expect((await ok("pull", "ranker", "-d", "newest")).stderr).toBe("pulling ranker:2.0.0, the newest READY version (3.0.0 is PENDING)\n");
  });

  it("refuses to pull a model with no READY version, saying what to do", async () => {
    await ok("models", "create", "unfilled");
    const none = await cli(["pull", "unfilled"]);
    expect(none.code).toBe(19);
    expect(none.stderr).toBe(
      "error: model workspaces/default/models/unfilled has no READY version to pull\n" +
        'hint: push files to one of its versions first (modelreg push <path> unfilled[:version]); see them and their states with "modelreg versions list unfilled"\n',
    );
    await ok("versions", "create", "unfilled");
    const pending = await cli(["pull", "unfilled", "-o", "json"]);
    expect(pending.code).toBe(19);
    expect(pending.stdout).toBe("");
    const lines = pending.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("error: model workspaces/default/models/unfilled has no READY version to pull (1.0.0 is PENDING)");
    expect(JSON.parse(lines.at(-1)!).error).toMatchObject({ code: "failed_precondition", reason: "NO_READY_VERSION", metadata: { resource: "workspaces/default/models/unfilled" } });
    expect(await stat(join(cwd, "unfilled-1.0.0")).catch(() => undefined)).toBeUndefined();
  });

  it("points a missing version at the versions of its model, a missing model at the models", async () => {
    const version = await cli(["pull", "ranker:9.9.9"]);
    expect(version.code).toBe(15);
    expect(version.stderr).toBe(
      "error: version workspaces/default/models/ranker/versions/9.9.9 not found\n" + 'hint: see the versions of model ranker with "modelreg versions list ranker"\n',
    );
    const model = await cli(["pull", "rankr:1.0.0"]);
    expect(model.code).toBe(15);
    expect(model.stderr).toContain("error: model workspaces/default/models/rankr not found\n");
    expect(model.stderr).toContain('see what exists with "modelreg models list"');
    expect((await cli(["pull", "-"])).code).toBe(2);
  });

  it("draws a progress bar on a terminal only", async () => {
    await writeFile(join(cwd, "fresh.bin"), Buffer.alloc(200_000, 3));
    const quiet = await cli(["push", "fresh.bin", "fraud:4.0.0", "-o", "json"]);
    expect(quiet.stderr).toBe("");
    await writeFile(join(cwd, "fresh2.bin"), Buffer.alloc(200_000, 4));
    const tty = await cli(["push", "fresh2.bin", "fraud:4.0.1"], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain("push");
    expect(tty.stderr).toContain("ETA");
  });
});

describe("--quiet, MODELREG_NO_PROGRESS, -o yaml", () => {
  const run = (argv: string[], env: Record<string, string> = {}, tty = false) => runCli(["--server", server.url, ...argv], bufferIo(env, { cwd, tty }));

  it("draws no bar on a terminal with --quiet or MODELREG_NO_PROGRESS, and --quiet drops the notes but not the errors", async () => {
    await ok("models", "create", "quiet");
    await writeFile(join(cwd, "quiet.bin"), Buffer.alloc(300_000, 6));
    for (const [argv, env] of [
      [["push", "quiet.bin", "quiet:1.0.0", "--quiet"], {}],
      [["push", "quiet.bin", "quiet:1.0.1"], { MODELREG_NO_PROGRESS: "1" }],
      [["-q", "pull", "quiet", "-d", "q1"], {}],
    ] as const) {
      const r = await run([...argv], { ...env }, true);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
    }
    // MODELREG_NO_PROGRESS=0 is no request: the bar and the note are there.
    const loud = await run(["pull", "quiet", "-d", "q2"], { MODELREG_NO_PROGRESS: "0" }, true);
    expect(loud.stderr).toContain("pulling quiet:1.0.1, the newest READY version");
    expect(loud.stderr).toContain("ETA");
    const failed = await run(["pull", "quiet:9.9.9", "--quiet"]);
    expect(failed.code).toBe(15);
    expect(failed.stderr).toMatch(/^error: version workspaces\/default\/models\/quiet\/versions\/9\.9\.9 not found\nhint: /);
  });

  it("prints files and pulls as YAML with the values of -o json", async () => {
    // (The second pull finds the file there: both of those say so.)
    await ok("pull", "quiet:1.0.0", "-d", "q3");
    for (const argv of [["versions", "files", "quiet:1.0.0"], ["pull", "quiet:1.0.0", "-d", "q3"]]) {
      const yaml = await ok(...argv, "-o", "yaml");
      const json = await ok(...argv, "-o", "json");
      // Two calls: each signs its own download URL, valid from its own second.
      expect(signedAsOfCall(parseYaml(yaml.stdout))).toEqual(signedAsOfCall(JSON.parse(json.stdout)));
    }
  });
});

/** `value` with each signed download URL cut to its path and each URL expiry checked to be a time and marked: what stays the same from call to call. */
function signedAsOfCall(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(signedAsOfCall);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (k === "downloadUrl" && typeof v === "string") return [k, new URL(v).pathname];
      if (k === "downloadUrlExpireTime" && typeof v === "string") {
        expect(Number.isNaN(Date.parse(v))).toBe(false);
        return [k, "(a time)"];
      }
      return [k, signedAsOfCall(v)];
    }),
  );
}
