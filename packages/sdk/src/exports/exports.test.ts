// Exports end to end against the real server (HTTP on loopback, PGlite, a
// temp blob store, the job engine running): create -> wait -> download for
// each format, the archives checked with the real md5sum, sha256sum, tar and
// unzip, then imported into other models (and another workspace) and
// compared with the original; corrupt and malformed archives refused.
import { execFile as execFileCb } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { open } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, toJson } from "@bufbuild/protobuf";
import { exports as exportsTable } from "@modelreg/db";
import { ExportFormat, ExportManifestSchema, ExportState, Framework, VersionSchema, VersionState, type Export, type Version } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryClient } from "../client.js";
import { createRegistryClient } from "../client.js";
import { Code, ConnectError, errorDetails } from "../errors.js";
import { patterned, tempDir } from "../testing/fixtures.js";
import { ExportFailedError } from "./exports.js";
import { readArchive } from "./read-archive.js";
import { indexTar } from "./tar-index.js";

const execFile = promisify(execFileCb);

const LONG = `deep/${"nested-directory-name/".repeat(6)}weights-with-a-long-name.bin`; // > 100 characters: pax or ustar prefix
const FILES: Record<string, Buffer> = {
  "config.json": Buffer.from('{"layers": 2}'),
  "empty.txt": Buffer.alloc(0),
  "weights/model.bin": patterned(300_000, 7),
  [LONG]: patterned(5_000, 8),
};
const PATHS = Object.keys(FILES).sort();
const FORMATS = [
  ["tar", ExportFormat.TAR, ".tar"],
  ["tar.gz", ExportFormat.TAR_GZ, ".tar.gz"],
  ["zip", ExportFormat.ZIP, ".zip"],
] as const;

let server: TestServer;
let client: RegistryClient;
let tmp: { path: string; remove(): Promise<void> };
let original: Version;
const archives = new Map<string, { exp: Export; path: string }>();

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFile(cmd, args, { cwd, maxBuffer: 16 << 20 });
  return stdout;
}

/** Refused as a corrupt archive: DataLoss, the archive's file name first in the message, reason ARCHIVE_CORRUPT. */
function expectCorrupt(err: ConnectError, fileName: string, what: string | RegExp): void {
  expect([err.code, err.rawMessage]).toEqual([Code.DataLoss, expect.stringMatching(new RegExp(`^${fileName.replace(/[.]/g, "\\.")}: `))]);
  if (typeof what === "string") expect(err.rawMessage).toContain(what);
  else expect(err.rawMessage).toMatch(what);
  expect(errorDetails(err)).toMatchObject({ reason: "ARCHIVE_CORRUPT", metadata: { archive: fileName } });
}

async function expectRejects(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

beforeAll(async () => {
  server = await startTestServer("pglite");
  client = server.client;
  tmp = await tempDir("sdk-exports");
  const src = join(tmp.path, "src");
  for (const [p, data] of Object.entries(FILES)) {
    await mkdir(join(src, p, ".."), { recursive: true });
    await writeFile(join(src, p), data);
  }
  await client.models.createModel({ parent: "workspaces/default", modelId: "fraud" });
  await client.versions.createVersion({
    parent: "workspaces/default/models/fraud",
    versionId: "3.2.0",
    version: create(VersionSchema, {
      description: "card fraud, exported",
      labels: { team: "risk", dataset: "2026-10" },
      metrics: { f1: 0.91, auc: 0.97 },
      framework: Framework.ONNX,
      runtime: "onnxruntime-1.17",
      algorithm: "xgboost",
      readme: "# fraud\n",
      lineage: { dataVersion: "2026-10", sourceLocation: "s3://bucket/run-42", sourceJobId: "job-42" },
    }),
  });
  original = await client.uploadDirectory("fraud:3.2.0", src);
  expect(original.state).toBe(VersionState.READY);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await tmp?.remove();
});

describe.each(FORMATS)("export as %s", (label, format, extension) => {
  it("creates, waits for and downloads the archive; checksums match md5sum and sha256sum", async () => {
    const started = await client.startExport("fraud:3.2.0", label);
    expect(started).toMatchObject({ version: original.name, format });
    expect(started.name).toMatch(new RegExp(`^${original.name}/exports/[0-9a-f-]{36}$`));
    // The same version and format again: the same export.
    expect((await client.startExport("workspaces/default/models/fraud/versions/3.2.0", format)).name).toBe(started.name);

    const seen: Export[] = [];
    const done = await client.waitForExport(started, { pollMs: 50, timeoutMs: 60_000, onProgress: (e) => seen.push(e) });
    expect(done).toMatchObject({ state: ExportState.SUCCEEDED, fileName: `fraud-3.2.0${extension}`, bytesTotal: original.totalSizeBytes, bytesDone: original.totalSizeBytes });
    expect(seen.at(-1)?.state).toBe(ExportState.SUCCEEDED);
    expect(done.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.md5).toMatch(/^[0-9a-f]{32}$/);

    const dir = join(tmp.path, `dl-${label}`);
    await mkdir(dir);
    const progress: number[] = [];
    const got = await client.downloadExport(done.name, dir, { onProgress: (p) => progress.push(p.bytesDone) });
    expect(got).toMatchObject({ localPath: join(dir, done.fileName), sizeBytes: Number(done.sizeBytes), sha256: done.sha256 });
    expect(progress.at(-1)).toBe(Number(done.sizeBytes));
    expect((await readdir(dir)).filter((n) => n.endsWith(".part"))).toEqual([]);

    // The real tools agree with what the server reports.
    expect((await run("sha256sum", [got.localPath])).split(/\s+/)[0]).toBe(done.sha256);
    expect((await run("md5sum", [got.localPath])).split(/\s+/)[0]).toBe(done.md5);
    const listing = label === "zip" ? await run("unzip", ["-Z1", got.localPath]) : await run("tar", ["-tf", got.localPath]);
    expect(listing.trimEnd().split("\n")).toEqual(["modelreg.json", ...PATHS]);
    if (label === "zip") expect(await run("unzip", ["-l", got.localPath])).toContain("modelreg.json");

    // Unpacked by the real tools: the same bytes.
    const out = join(tmp.path, `unpacked-${label}`);
    await mkdir(out);
    if (label === "zip") await run("unzip", ["-q", got.localPath, "-d", out]);
    else await run("tar", ["-xf", got.localPath, "-C", out]);
    for (const p of PATHS) expect(Buffer.compare(await readFile(join(out, p)), FILES[p]!)).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, "modelreg.json"), "utf8"));
    expect(manifest).toMatchObject({ formatVersion: 1, version: { manifestDigest: original.manifestDigest } });
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(PATHS);

    // Downloading with a short name and the default target (the working directory is not changed here: a file target).
    const again = await client.downloadExport(`fraud:3.2.0/${done.uid}`, join(tmp.path, `again${extension}`));
    expect(again.sha256).toBe(done.sha256);
    archives.set(label, { exp: done, path: got.localPath });
  }, 60_000);

  it("imports the archive into another model: same manifest digest, files and metadata", async () => {
    const { path } = archives.get(label)!;
    const hashed: number[] = [];
    const imported = await client.importArchive(path, `copy-${label.replace(".", "-")}`, { onHashProgress: (p) => hashed.push(p.bytesDone) });
    expect(imported).toMatchObject({
      name: `workspaces/default/models/copy-${label.replace(".", "-")}/versions/3.2.0`,
      state: VersionState.READY,
      manifestDigest: original.manifestDigest,
      fileCount: original.fileCount,
      totalSizeBytes: original.totalSizeBytes,
      description: original.description,
      labels: original.labels,
      metrics: original.metrics,
      framework: original.framework,
      runtime: original.runtime,
      algorithm: original.algorithm,
      readme: original.readme,
    });
    expect(imported.lineage).toMatchObject({ dataVersion: "2026-10", sourceLocation: "s3://bucket/run-42", sourceJobId: "job-42" });
    expect(hashed.at(-1)).toBe(Number(original.totalSizeBytes));
    const files = [];
    for await (const f of client.listAllFiles(imported.name)) files.push(f);
    expect(files.map((f) => [f.path, f.sha256, f.sizeBytes])).toEqual(PATHS.map((p) => [p, expectedSha(p), BigInt(FILES[p]!.length)]));
    // Into a named version of an existing model.
    const named = await client.importArchive(path, `copy-${label.replace(".", "-")}:9.0.0`);
    expect(named).toMatchObject({ version: "9.0.0", manifestDigest: original.manifestDigest });
  }, 60_000);
});

function expectedSha(p: string): string {
  return createHash("sha256").update(FILES[p]!).digest("hex");
}

describe("listAllExports", () => {
  it("lists a model's exports across versions, or one version's, filtered", async () => {
    const all = [];
    for await (const e of client.listAllExports("fraud")) all.push(e);
    expect(all.map((e) => e.format).sort()).toEqual([ExportFormat.TAR, ExportFormat.TAR_GZ, ExportFormat.ZIP]);
    const gz = [];
    for await (const e of client.listAllExports("fraud:3.2.0", { filter: "state = SUCCEEDED AND format = TAR_GZ", pageSize: 1 })) gz.push(e);
    expect(gz.map((e) => e.name)).toEqual([archives.get("tar.gz")!.exp.name]);
    const none = [];
    for await (const e of client.listAllExports("fraud", { filter: "state = FAILED" })) none.push(e);
    expect(none).toEqual([]);
  });
});

describe("import", () => {
  it("keeps the archive's model and version id by default (here into another workspace)", async () => {
    await client.workspaces.createWorkspace({ workspaceId: "elsewhere" });
    const other = createRegistryClient({ baseUrl: server.url, workspace: "elsewhere", accessKey: "" });
    const v = await other.importArchive(archives.get("tar")!.path);
    expect(v).toMatchObject({ name: "workspaces/elsewhere/models/fraud/versions/3.2.0", manifestDigest: original.manifestDigest, state: VersionState.READY });
    // Once more: the version exists.
    const err = await expectRejects(other.importArchive(archives.get("zip")!.path));
    expect(err.code).toBe(Code.AlreadyExists);
  });

  it("detects the format by its bytes, not the file name", async () => {
    const renamed = join(tmp.path, "export.bin");
    await copyFile(archives.get("tar.gz")!.path, renamed);
    const v = await client.importArchive(renamed, "by-magic");
    expect(v.manifestDigest).toBe(original.manifestDigest);
  });

  it("reads archives repacked by GNU tar and by zip (deflated)", async () => {
    const dir = join(tmp.path, "unpacked-tar");
    const gnu = join(tmp.path, "gnu.tar");
    await run("tar", ["-cf", gnu, "-C", dir, "modelreg.json", ...PATHS]);
    expect((await client.importArchive(gnu, "gnu-tar")).manifestDigest).toBe(original.manifestDigest);
    // With ./ prefixes and directory entries, gzipped.
    const dotted = join(tmp.path, "dotted.tgz");
    await run("tar", ["-czf", dotted, "-C", dir, "./modelreg.json", "./config.json", "./empty.txt", "./deep", "./weights"]);
    expect(await run("tar", ["-tzf", dotted])).toContain("./weights/\n");
    expect((await client.importArchive(dotted, "dotted-tgz")).manifestDigest).toBe(original.manifestDigest);
    const zipped = join(tmp.path, "deflated.zip");
    await run("zip", ["-q", "-9", "-r", zipped, "modelreg.json", "config.json", "empty.txt", "deep", "weights"], dir);
    expect(await run("unzip", ["-Z1", zipped])).toContain("weights/\n");
    const opened = await readArchive(zipped);
    expect(opened.files.some((f) => f.localPath !== zipped)).toBe(true); // compressed entries were unpacked
    await opened.close();
    expect((await client.importArchive(zipped, "deflated-zip")).manifestDigest).toBe(original.manifestDigest);
  });

  /** A copy of the archive with one byte of weights/model.bin flipped. */
  async function corrupt(label: string): Promise<string> {
    const src = archives.get(label)!.path;
    const dst = join(tmp.path, `corrupt-${label.replace(".", "-")}`);
    if (label === "tar.gz") {
      const tarBytes = gunzipSync(await readFile(src));
      await writeFile(join(tmp.path, "plain.tar"), tarBytes);
      const at = await dataOffset(join(tmp.path, "plain.tar"), "weights/model.bin");
      tarBytes[at + 1000]! ^= 0xff;
      await writeFile(dst, gzipSync(tarBytes));
      return dst;
    }
    const bytes = await readFile(src);
    const at = label === "tar" ? await dataOffset(src, "weights/model.bin") : bytes.indexOf(FILES["weights/model.bin"]!.subarray(0, 64));
    expect(at).toBeGreaterThan(0);
    bytes[at + 1000]! ^= 0xff;
    await writeFile(dst, bytes);
    return dst;
  }

  async function dataOffset(tarPath: string, path: string): Promise<number> {
    const fh = await open(tarPath, "r");
    try {
      const entries = await indexTar(fh, (await fh.stat()).size);
      return entries.find((e) => e.path === path)!.offset;
    } finally {
      await fh.close();
    }
  }

  it.each(FORMATS.map(([label]) => label))("refuses a corrupt %s naming the file, and creates nothing", async (label) => {
    const bad = await corrupt(label);
    const model = `corrupt-${label.replace(".", "-")}`;
    const err = await expectRejects(client.importArchive(bad, model));
    expectCorrupt(err, basename(bad), "weights/model.bin is corrupt: its bytes hash to");
    expect((await expectRejects(client.models.getModel({ name: `workspaces/default/models/${model}` }))).code).toBe(Code.NotFound);
    // No temp directory left beside the archive.
    expect((await readdir(tmp.path)).filter((n) => n.startsWith(".modelreg-import-"))).toEqual([]);
  });

  it("refuses entries that differ from modelreg.json before creating anything", async () => {
    const dir = join(tmp.path, "unpacked-tar");
    // An extra entry.
    const extra = join(tmp.path, "extra.tar");
    await writeFile(join(dir, "extra.txt"), "surprise");
    await run("tar", ["-cf", extra, "-C", dir, "modelreg.json", ...PATHS, "extra.txt"]);
    let err = await expectRejects(client.importArchive(extra, "wrong-entries"));
    expectCorrupt(err, "extra.tar", "entry extra.txt is not listed in modelreg.json");
    // A missing one.
    const missing = join(tmp.path, "missing.zip");
    await run("zip", ["-q", "-0", missing, "modelreg.json", ...PATHS.filter((p) => p !== "config.json")], dir);
    err = await expectRejects(client.importArchive(missing, "wrong-entries"));
    expectCorrupt(err, "missing.zip", "config.json listed in modelreg.json is not in the archive");
    // A file of another size.
    await writeFile(join(dir, "config.json"), '{"layers": 3, "more": true}');
    const resized = join(tmp.path, "resized.tar.gz");
    await run("tar", ["-czf", resized, "-C", dir, "modelreg.json", ...PATHS]);
    err = await expectRejects(client.importArchive(resized, "wrong-entries"));
    expectCorrupt(err, "resized.tar.gz", /config\.json is \d+ bytes in the archive, modelreg\.json says 13/);
    // modelreg.json not first.
    const late = join(tmp.path, "late.tar");
    await run("tar", ["-cf", late, "-C", dir, ...PATHS, "modelreg.json"]);
    err = await expectRejects(client.importArchive(late, "wrong-entries"));
    expectCorrupt(err, "late.tar", "first entry is not modelreg.json");
    await writeFile(join(dir, "config.json"), FILES["config.json"]!);
    await rm(join(dir, "extra.txt"));
    expect((await expectRejects(client.models.getModel({ name: "workspaces/default/models/wrong-entries" }))).code).toBe(Code.NotFound);
  });

  it("refuses a newer format_version as Unimplemented (upgrade modelreg), not as corrupt", async () => {
    const dir = join(tmp.path, "future");
    await mkdir(dir);
    const manifest = toJson(ExportManifestSchema, create(ExportManifestSchema, { formatVersion: 2, version: original, files: [] }));
    await writeFile(join(dir, "modelreg.json"), JSON.stringify({ ...(manifest as object), newField: true }));
    const future = join(tmp.path, "future.tar");
    await run("tar", ["-cf", future, "-C", dir, "modelreg.json"]);
    const err = await expectRejects(client.importArchive(future, "future"));
    expect([err.code, err.message]).toEqual([Code.Unimplemented, expect.stringContaining("format_version 2")]);
    expect(errorDetails(err).reason).toBe("ARCHIVE_FORMAT_TOO_NEW");
    expect((await expectRejects(client.models.getModel({ name: "workspaces/default/models/future" }))).code).toBe(Code.NotFound);
  });

  /** A refused import: DataLoss naming the archive, nothing created, no temp directory left. */
  async function expectRefused(archive: string, model: string, what: string | RegExp): Promise<ConnectError> {
    const err = await expectRejects(client.importArchive(archive, model));
    expectCorrupt(err, basename(archive), what);
    expect((await expectRejects(client.models.getModel({ name: `workspaces/default/models/${model}` }))).code).toBe(Code.NotFound);
    expect((await readdir(tmp.path)).filter((n) => n.startsWith(".modelreg-import-"))).toEqual([]);
    return err;
  }

  it("refuses a file that is no archive at all, or an empty one, as corrupt", async () => {
    const junk = join(tmp.path, "junk.tar");
    await writeFile(junk, "not an archive at all");
    await expectRefused(junk, "junk", "is not a tar, tar.gz or zip archive");
    const empty = join(tmp.path, "empty.zip");
    await writeFile(empty, "");
    await expectRefused(empty, "junk", "is empty");
    // Zip magic, then nothing a zip reader can use.
    const fake = join(tmp.path, "fake.zip");
    await writeFile(fake, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 0x41)]));
    await expectRefused(fake, "junk", "cannot be read as zip");
  });

  it("refuses a modelreg.json that is not JSON, not an ExportManifest, or incomplete", async () => {
    const dir = join(tmp.path, "bad-manifest");
    await mkdir(dir, { recursive: true });
    const good = JSON.parse(await readFile(join(tmp.path, "unpacked-tar", "modelreg.json"), "utf8"));
    const cases: [string, string, string][] = [
      ["not-json", '{"formatVersion": 1, "version": {', "modelreg.json is not valid JSON"],
      ["not-manifest", JSON.stringify({ ...good, formatVersion: "one" }), "modelreg.json is not an ExportManifest"],
      ["no-format", JSON.stringify({ ...good, formatVersion: undefined }), "modelreg.json has no format_version"],
      ["no-version", JSON.stringify({ ...good, version: undefined }), "modelreg.json has no version"],
      ["bad-sha", JSON.stringify({ ...good, files: good.files.map((f: { path: string }, i: number) => (i === 0 ? { ...f, sha256: "abc" } : f)) }), `${PATHS[0]} has no valid sha256`],
      ["twice", JSON.stringify({ ...good, files: [...good.files, good.files[0]] }), `lists ${PATHS[0]} twice`],
    ];
    for (const p of PATHS) {
      await mkdir(join(dir, p, ".."), { recursive: true });
      await writeFile(join(dir, p), FILES[p]!);
    }
    for (const [name, text, what] of cases) {
      await writeFile(join(dir, "modelreg.json"), text);
      const tarPath = join(tmp.path, `${name}.tar`);
      await run("tar", ["-cf", tarPath, "-C", dir, "modelreg.json", ...PATHS]);
      await expectRefused(tarPath, `manifest-${name}`, what);
    }
    // The same in a tar.gz and a zip.
    await writeFile(join(dir, "modelreg.json"), "<html>not json</html>");
    const gz = join(tmp.path, "not-json.tar.gz");
    await run("tar", ["-czf", gz, "-C", dir, "modelreg.json", ...PATHS]);
    await expectRefused(gz, "manifest-gz", "modelreg.json is not valid JSON");
    const zipped = join(tmp.path, "not-json.zip");
    await run("zip", ["-q", "-9", zipped, "modelreg.json", ...PATHS], dir);
    await expectRefused(zipped, "manifest-zip", "modelreg.json is not valid JSON");
  });

  it("refuses a truncated tar, tar.gz and zip", async () => {
    for (const [label, , extension] of FORMATS) {
      const bytes = await readFile(archives.get(label)!.path);
      const cut = join(tmp.path, `truncated${extension}`);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await expectRefused(cut, `truncated-${label.replace(".", "-")}`, label === "tar" ? "truncated tar" : label === "tar.gz" ? "unexpected end of file" : "cannot be read as zip");
    }
    // A tar cut at the end of a header: the header is whole, its data is not.
    const tarBytes = await readFile(archives.get("tar")!.path);
    const at = await dataOffset(archives.get("tar")!.path, "weights/model.bin");
    const cut = join(tmp.path, "cut-at-header.tar");
    await writeFile(cut, tarBytes.subarray(0, at + 100));
    await expectRefused(cut, "truncated-header", "weights/model.bin needs 300000 bytes");
  });

  it("refuses a zip whose deflated entry does not inflate", async () => {
    const zipped = join(tmp.path, "deflated.zip"); // repacked by zip -9 above
    const bytes = await readFile(zipped);
    // The local header of weights/model.bin: method 8 (deflate), then its compressed data.
    const name = bytes.indexOf(Buffer.from("weights/model.bin"));
    const header = name - 30;
    expect(bytes.readUInt32LE(header)).toBe(0x04034b50);
    expect(bytes.readUInt16LE(header + 8)).toBe(8);
    const data = name + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28);
    // The first deflate block's type bits set to 11, a type that does not exist.
    bytes[data]! |= 0x06;
    const bad = join(tmp.path, "bad-deflate.zip");
    await writeFile(bad, bytes);
    const err = await expectRefused(bad, "bad-deflate", "weights/model.bin cannot be inflated");
    expect(err.message).toContain("invalid block type");
  });

  it("refuses a tar.gz whose compressed bytes are altered", async () => {
    const bytes = await readFile(archives.get("tar.gz")!.path);
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 64; i++) bytes[i]! ^= 0x5a;
    const bad = join(tmp.path, "altered.tar.gz");
    await writeFile(bad, bytes);
    // zlib either fails to inflate or the gzip CRC does not match; either way the archive is corrupt.
    await expectRefused(bad, "altered-gz", /cannot be read as tar\.gz|is corrupt/);
  });

  it("says a missing archive file is missing, not corrupt (InvalidArgument)", async () => {
    const nowhere = join(tmp.path, "no-such-archive.tar.gz");
    const err = await expectRejects(client.importArchive(nowhere, "nowhere"));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, `${nowhere}: no such file`]);
    expect(errorDetails(err).reason).toBe("ARCHIVE_NOT_FOUND");
    const dirErr = await expectRejects(client.importArchive(tmp.path, "nowhere"));
    expect([dirErr.code, dirErr.message]).toEqual([Code.InvalidArgument, expect.stringContaining("is a directory")]);
    expect((await expectRejects(client.models.getModel({ name: "workspaces/default/models/nowhere" }))).code).toBe(Code.NotFound);
  });

  it.each(FORMATS.map(([label]) => label))("stays an abort when the signal is aborted while reading a %s", async (label) => {
    const err = await client.importArchive(archives.get(label)!.path, "aborted", { signal: AbortSignal.abort() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: "AbortError" });
    expect(err).not.toBeInstanceOf(ConnectError);
    expect((await expectRejects(client.models.getModel({ name: "workspaces/default/models/aborted" }))).code).toBe(Code.NotFound);
    expect((await readdir(tmp.path)).filter((n) => n.startsWith(".modelreg-import-"))).toEqual([]);
  });
});

describe("waiting (job engine stopped)", () => {
  let idle: TestServer;
  beforeAll(async () => {
    idle = await startTestServer("pglite", { startJobs: false });
    await idle.client.models.createModel({ parent: "workspaces/default", modelId: "m" });
    await idle.client.versions.createVersion({ parent: "workspaces/default/models/m", versionId: "1.0.0" });
    await idle.client.uploadFile("m:1.0.0", join(tmp.path, "src", "config.json"));
  }, 60_000);
  afterAll(async () => {
    await idle?.close();
  });

  it("times out with DeadlineExceeded while the export stays PENDING", async () => {
    const exp = await idle.client.startExport("m:1.0.0", "zip");
    const t0 = Date.now();
    const err = await expectRejects(idle.client.waitForExport(exp, { timeoutMs: 300, pollMs: 50 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.message).toContain("PENDING");
    // Not before its timeout (a hang would be the suite's timeout to catch).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    // Downloading it is refused: no archive yet.
    expect((await expectRejects(idle.client.downloadExport(exp, tmp.path))).code).toBe(Code.FailedPrecondition);
  });

  it("fails with Canceled when the export is cancelled while waiting", async () => {
    const exp = await idle.client.startExport("m:1.0.0", "tar", { force: true });
    const waiting = idle.client.waitForExport(exp.name, { pollMs: 50, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 120));
    await idle.client.exports.cancelExport({ name: exp.name });
    const err = await expectRejects(waiting);
    expect(err).toBeInstanceOf(ExportFailedError);
    expect(err.code).toBe(Code.Canceled);
    expect((err as ExportFailedError).export.state).toBe(ExportState.CANCELLED);
  });

  it("fails with the export's error_message when it FAILED", async () => {
    const exp = await idle.client.startExport("m:1.0.0", "tar.gz", { force: true });
    const waiting = idle.client.waitForExport(exp, { pollMs: 50, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 120));
    // What the job engine records when the last try fails.
    await idle.database.db.update(exportsTable).set({ state: ExportState.FAILED, errorMessage: "blob 3f2a... is missing from the store", endTime: new Date() }).where(eq(exportsTable.id, exp.uid));
    const err = await expectRejects(waiting);
    expect(err).toBeInstanceOf(ExportFailedError);
    expect(err.message).toContain("blob 3f2a... is missing from the store");
    expect((err as ExportFailedError).export.state).toBe(ExportState.FAILED);
  });

  it("aborts waiting on the signal", async () => {
    const exp = await idle.client.startExport("m:1.0.0", "zip");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(idle.client.waitForExport(exp, { pollMs: 50, signal: ac.signal })).rejects.toBeDefined();
  });
});
