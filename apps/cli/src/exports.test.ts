// export, exports list/get/wait/download/cancel/delete and import end to
// end: run() against the real server on loopback (HTTP byte paths, PGlite,
// a temp blob store, the job engine running), files in a temp working
// directory, archives checked with the real md5sum, sha256sum, tar and unzip.
import { execFile as execFileCb } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";

const execFile = promisify(execFileCb);
const sh = async (cmd: string, args: string[], cwd?: string) => (await execFile(cmd, args, { cwd, maxBuffer: 16 << 20 })).stdout;

let server: TestServer;
let idle: TestServer;
let cwd: string;
const WEIGHTS = Buffer.alloc(400_000);
for (let i = 0; i < WEIGHTS.length; i++) WEIGHTS[i] = (i * 2654435761) >>> 24;

beforeAll(async () => {
  server = await startTestServer("pglite");
  // A second server whose job engine does not run: its exports stay PENDING until cancelled.
  idle = await startTestServer("pglite", { startJobs: false });
  cwd = await mkdtemp(join(tmpdir(), "cli-exports-"));
  await mkdir(join(cwd, "model", "weights"), { recursive: true });
  await writeFile(join(cwd, "model", "config.json"), '{"layers": 2}');
  await writeFile(join(cwd, "model", "weights", "model.bin"), WEIGHTS);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await idle?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function cli(argv: string[], options: { tty?: boolean; on?: TestServer; signal?: AbortSignal } = {}) {
  return runCli(["--server", (options.on ?? server).url, ...argv], bufferIo({}, { cwd, tty: options.tty ?? false }), options.signal ? { signal: options.signal } : {});
}

async function ok(argv: string[], options: { tty?: boolean; on?: TestServer } = {}) {
  return expectOk(argv, await cli(argv, options));
}

let original: { manifestDigest: string; name: string };
let zipExport: string;

describe("export and import", () => {
  it("exports with --wait -O: the archive is written, and md5sum/sha256sum agree with the export", async () => {
    await ok(["models", "create", "fraud"]);
    original = (await ok(["push", "model", "fraud:1.0.0", "--description", "exported", "--label", "team=risk", "-o", "json"])).json();
    const r = await ok(["export", "fraud:1.0.0", "--format", "tar.gz", "--wait", "-O", "fraud.tar.gz", "-o", "json"]);
    expect(r.stderr).toBe(""); // no progress bar when stderr is not a terminal
    const got = r.json();
    expect(got).toMatchObject({ localPath: join(cwd, "fraud.tar.gz"), export: { state: "EXPORT_STATE_SUCCEEDED", format: "EXPORT_FORMAT_TAR_GZ", fileName: "fraud-1.0.0.tar.gz" } });
    expect((await sh("sha256sum", [got.localPath])).split(" ")[0]).toBe(got.sha256);
    expect((await sh("md5sum", [got.localPath])).split(" ")[0]).toBe(got.md5);
    expect(got.md5).toBe(got.export.md5);
    expect((await sh("tar", ["-tzf", got.localPath])).trimEnd().split("\n")).toEqual(["modelreg.json", "config.json", "weights/model.bin"]);
    expect((await readdir(cwd)).filter((n) => n.endsWith(".part"))).toEqual([]);
  });

  it("takes -o <file> as where to write the archive (table and json stay output formats)", async () => {
    const r = await ok(["export", "fraud:1.0.0", "--format", "tar.gz", "-o", "o-flag.tar.gz"]);
    expect(r.stdout).toContain("o-flag.tar.gz");
    expect((await sh("tar", ["-tzf", join(cwd, "o-flag.tar.gz")])).trimEnd().split("\n")).toEqual(["modelreg.json", "config.json", "weights/model.bin"]);
    const asJson = (await ok(["export", "fraud:1.0.0", "--format", "tar.gz", "-o", "json"])).json();
    expect(asJson).toMatchObject({ state: "EXPORT_STATE_SUCCEEDED", fileName: "fraud-1.0.0.tar.gz" });
    const elsewhere = await cli(["models", "list", "-o", "o-flag.txt"]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("Allowed choices are table, json");
  });

  it("exports without waiting, then get, wait and download it by its short name", async () => {
    const started = (await ok(["export", "fraud:1.0.0", "--format", "zip", "-o", "json"])).json();
    expect(started.name).toMatch(/^workspaces\/default\/models\/fraud\/versions\/1\.0\.0\/exports\/[0-9a-f-]{36}$/);
    const short = `fraud:1.0.0/${started.uid}`;
    zipExport = short;
    const got = (await ok(["exports", "get", short, "-o", "json"])).json();
    expect(got.name).toBe(started.name);
    const done = await ok(["exports", "wait", short]);
    expect(done.stdout).toMatch(/^State:\s+succeeded$/m);
    expect(done.stdout).toMatch(/^File:\s+fraud-1\.0\.0\.zip$/m);
    expect(done.stdout).toMatch(/^Download URL:\s+http:\/\/127\.0\.0\.1:\d+\//m);
    await mkdir(join(cwd, "dl"));
    const dl = await ok(["exports", "download", short, "-O", "dl"]);
    expect(dl.stdout).toMatch(new RegExp(`^File:\\s+${join(cwd, "dl", "fraud-1.0.0.zip").replace(/[.]/g, "\\.")}$`, "m"));
    expect((await sh("unzip", ["-Z1", join(cwd, "dl", "fraud-1.0.0.zip")])).trimEnd().split("\n")).toEqual(["modelreg.json", "config.json", "weights/model.bin"]);
    // The same version and format again: the same export (no --force).
    expect((await ok(["export", "fraud:1.0.0", "--format", "zip", "-o", "json"])).json().name).toBe(started.name);
  });

  it("lists exports of a model or a version, filtered by state and format", async () => {
    await ok(["export", "fraud:1.0.0", "--format", "tar", "--wait"]);
    const table = (await ok(["exports", "list", "fraud"])).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^EXPORT\s+FORMAT\s+STATE\s+PROGRESS\s+SIZE\s+SHA256\s+CREATED$/);
    expect(table).toHaveLength(4);
    expect(table.slice(1).every((l) => /^fraud:1\.0\.0\/[0-9a-f-]{36}\s+(tar|tar\.gz|zip)\s+succeeded\s/.test(l))).toBe(true);
    const gz = (await ok(["exports", "list", "fraud:1.0.0", "--format", "tar.gz", "--state", "succeeded", "-o", "json"])).json();
    expect(gz.map((e: { format: string }) => e.format)).toEqual(["EXPORT_FORMAT_TAR_GZ"]);
    const none = await ok(["exports", "list", "fraud", "--state", "failed"]);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("no exports of workspaces/default/models/fraud matching state = FAILED");
  });

  it("imports each archive into another model with the same manifest digest and metadata", async () => {
    const a = (await ok(["import", "fraud.tar.gz", "copy", "-o", "json"])).json();
    expect(a).toMatchObject({ name: "workspaces/default/models/copy/versions/1.0.0", state: "VERSION_STATE_READY", manifestDigest: original.manifestDigest, description: "exported", labels: { team: "risk" } });
    const b = (await ok(["import", join("dl", "fraud-1.0.0.zip"), "copy:2.0.0", "-o", "json"])).json();
    expect(b).toMatchObject({ version: "2.0.0", manifestDigest: original.manifestDigest });
    const table = await ok(["import", "fraud.tar.gz", "copy:3.0.0"]);
    expect(table.stdout).toMatch(/^State:\s+ready$/m);
  });

  it("refuses a corrupt archive naming the file (exit 25), and creates nothing", async () => {
    const bytes = await readFile(join(cwd, "dl", "fraud-1.0.0.zip"));
    const at = bytes.indexOf(WEIGHTS.subarray(1000, 1064));
    expect(at).toBeGreaterThan(0);
    bytes[at]! ^= 0x01;
    await writeFile(join(cwd, "corrupt.zip"), bytes);
    const r = await cli(["import", "corrupt.zip", "never"]);
    expect(r.code).toBe(25); // DataLoss
    expect(r.stderr).toContain("error: corrupt.zip: weights/model.bin is corrupt");
    // modelreg.json that is not JSON, repacked by the real tar.
    const unpacked = join(cwd, "unpacked");
    await mkdir(unpacked);
    await sh("tar", ["-xzf", join(cwd, "fraud.tar.gz"), "-C", unpacked]);
    await writeFile(join(unpacked, "modelreg.json"), '{"formatVersion": 1, "version": ');
    await sh("tar", ["-czf", join(cwd, "bad-manifest.tar.gz"), "-C", unpacked, "modelreg.json", "config.json", "weights/model.bin"]);
    const manifest = await cli(["import", "bad-manifest.tar.gz", "never", "-o", "json"]);
    expect(manifest.code).toBe(25);
    expect(manifest.stderr).toContain("error: bad-manifest.tar.gz: modelreg.json is not valid JSON");
    expect(JSON.parse(manifest.stderr.trimEnd().split("\n").at(-1)!)).toMatchObject({ error: { code: "data_loss", reason: "ARCHIVE_CORRUPT", metadata: { archive: "bad-manifest.tar.gz" } } });
    // A tar.gz cut in half.
    const gz = await readFile(join(cwd, "fraud.tar.gz"));
    await writeFile(join(cwd, "truncated.tar.gz"), gz.subarray(0, Math.floor(gz.length / 2)));
    const truncated = await cli(["import", "truncated.tar.gz", "never"]);
    expect(truncated.code).toBe(25);
    expect(truncated.stderr).toContain("error: truncated.tar.gz: cannot be read as tar.gz: unexpected end of file");
    // Nothing was created, and no temp directory is left beside the archives.
    expect((await cli(["models", "get", "never"])).code).toBe(15);
    expect((await readdir(cwd)).filter((n) => n.startsWith(".modelreg-import-"))).toEqual([]);
    // A file that is not there is not corrupt: exit 13 (InvalidArgument), naming the path.
    const missing = await cli(["import", "nope.tar", "never"]);
    expect(missing.code).toBe(13);
    expect(missing.stderr).toContain(`error: ${join(cwd, "nope.tar")}: no such file`);
  });

  it("shows a progress bar on a terminal", async () => {
    const r = await ok(["export", "fraud:1.0.0", "--format", "tar", "--force", "-O", "tty.tar"], { tty: true });
    expect(r.stderr).toContain("download");
    expect(r.stderr).toContain("ETA");
  });

  it("deletes an export; it is gone afterwards", async () => {
    const r = await ok(["exports", "delete", zipExport]);
    expect(r.stdout).toMatch(/^deleted export workspaces\/default\/models\/fraud\/versions\/1\.0\.0\/exports\//);
    expect((await cli(["exports", "get", zipExport])).code).toBe(15);
  });

  it("rejects export names and formats it cannot read as usage errors (exit 2)", async () => {
    expect((await cli(["exports", "get", "fraud"])).code).toBe(2);
    expect((await cli(["exports", "get", "fraud@prod/123"])).code).toBe(2);
    expect((await cli(["export", "fraud:1.0.0", "--format", "rar"])).code).toBe(2);
    expect((await cli(["export", "fraud:1.0.0"])).code).toBe(2);
  });
});

describe("cancel (job engine stopped)", () => {
  it("cancels a pending export; waiting for it then fails with exit 11, cancelling again with 19", async () => {
    await ok(["models", "create", "m"], { on: idle });
    await writeFile(join(cwd, "one.bin"), "one");
    await ok(["push", "one.bin", "m:1.0.0"], { on: idle });
    const started = (await ok(["export", "m:1.0.0", "--format", "tar", "-o", "json"], { on: idle })).json();
    expect(started.state).toBe("EXPORT_STATE_PENDING");
    const short = `m:1.0.0/${started.uid}`;
    const cancelled = await ok(["exports", "cancel", short], { on: idle });
    expect(cancelled.stdout).toMatch(/^State:\s+cancelled$/m);
    const waited = await cli(["exports", "wait", short], { on: idle });
    expect(waited.code).toBe(11); // Canceled
    expect(waited.stderr).toContain("was cancelled");
    const again = await cli(["exports", "cancel", short], { on: idle });
    expect(again.code).toBe(19); // FailedPrecondition
    const dl = await cli(["exports", "download", short], { on: idle });
    expect(dl.code).toBe(11);
  });

  it("stops waiting on Ctrl-C (exit 130) and says the export goes on", async () => {
    // Ctrl-C once the export exists (so while the CLI waits for it), however long getting there takes.
    const ac = new AbortController();
    const pending = async () => {
      for await (const e of idle.client.listAllExports("m:1.0.0", { filter: "format = ZIP AND state = PENDING" })) return e;
      return undefined;
    };
    const running = cli(["export", "m:1.0.0", "--format", "zip", "--wait"], { on: idle, signal: ac.signal });
    while (!(await pending())) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const r = await running;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/note: export m:1\.0\.0\/[0-9a-f-]{36} goes on on the server; wait again with: modelreg exports wait m:1\.0\.0\//);
  });
});
