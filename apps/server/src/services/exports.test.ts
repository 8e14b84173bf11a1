// ExportService through a real server on loopback, on both databases: each
// format packed, downloaded over its signed URL and checked with the real
// tools (md5sum, sha256sum, tar, unzip); idempotence and force; the latest
// export; listing and filters; cancellation (also of an export whose server
// died); deletion; every refusal.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromJsonString } from "@bufbuild/protobuf";
import { jobs } from "@modelreg/db";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { createClient } from "@connectrpc/connect";
import { Code, createTransport, type Export, ExportFormat, ExportManifestSchema, ExportService, ExportState } from "@modelreg/sdk";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createExportRuns, EXPORT_JOB } from "../domain/exports/index.js";
import { JOB_STATE } from "../jobs/engine.js";
import { claimJob } from "../jobs/job-sql.js";
import { failure } from "../testing/failure.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

describeEachDatabase("exports", (kind) => suite(kind));

const ex = (server: TestServer) => createClient(ExportService, createTransport({ baseUrl: server.url }));

function suite(kind: DriverKind) {
  let t: TestServer;
  let dir: string;
  const ws = "workspaces/default";
  let n = 0;
  const files: Record<string, Buffer> = {
    "model.onnx": randomBytes(300_000),
    "config/params.json": Buffer.from('{"lr": 0.1}\n'),
    "config/empty.txt": Buffer.alloc(0),
    [`deep/${"d".repeat(120)}/weights.bin`]: randomBytes(70_000),
  };

  beforeAll(async () => {
    t = await startTestServer(kind);
    dir = await mkdtemp(join(tmpdir(), "modelreg-exports-"));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A READY version holding `files` (or a PENDING one). */
  async function readyVersion(ready = true): Promise<string> {
    const model = `m${++n}`;
    await t.client.models.createModel({ parent: ws, modelId: model });
    const { version } = await t.client.versions.createVersion({ parent: `${ws}/models/${model}`, version: { description: "for export", labels: { team: "risk" } } });
    if (!ready) return version!.name;
    const src = join(dir, `src-${n}`);
    for (const [p, bytes] of Object.entries(files)) {
      await mkdir(join(src, p, ".."), { recursive: true });
      await writeFile(join(src, p), bytes);
    }
    await t.client.uploadDirectory(version!.name, src);
    return version!.name;
  }

  async function waitDone(name: string): Promise<Export> {
    for (let i = 0; i < 600; i++) {
      const { export: e } = await ex(t).getExport({ name });
      if (e!.state !== ExportState.PENDING && e!.state !== ExportState.RUNNING) return e!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`export ${name} did not finish`);
  }

  async function download(e: Export): Promise<{ path: string; res: Response }> {
    const res = await fetch(new URL(e.downloadUrl, t.url));
    expect(res.status).toBe(200);
    const path = join(dir, `${e.uid}-${e.fileName}`);
    await writeFile(path, Buffer.from(await res.arrayBuffer()));
    return { path, res };
  }

  const tool = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: "utf8" });

  for (const [format, lister] of [
    [ExportFormat.TAR, (p: string) => tool("tar", "-tf", p)],
    [ExportFormat.TAR_GZ, (p: string) => tool("tar", "-tzf", p)],
    [ExportFormat.ZIP, (p: string) => tool("zipinfo", "-1", p)],
  ] as const) {
    it(`packs a version as ${ExportFormat[format]}: checksums equal md5sum/sha256sum, entries are the manifest plus modelreg.json`, async () => {
      const version = await readyVersion();
      const { export: created, created: isNew } = await ex(t).createExport({ parent: version, format });
      expect(isNew).toBe(true);
      expect(created!.state).toBe(ExportState.PENDING);
      expect(created!.name).toBe(`${version}/exports/${created!.uid}`);
      const total = Object.values(files).reduce((s, b) => s + b.length, 0);
      expect(created!.bytesTotal).toBe(BigInt(total));
      const e = await waitDone(created!.name);
      expect(e.state, e.errorMessage).toBe(ExportState.SUCCEEDED);
      expect(e.bytesDone).toBe(BigInt(total));
      expect(e.attempts).toBe(1);
      expect(e.endTime).toBeDefined();
      const ext = { [ExportFormat.TAR]: ".tar", [ExportFormat.TAR_GZ]: ".tar.gz", [ExportFormat.ZIP]: ".zip" }[format];
      expect(e.fileName).toBe(`${version.split("/")[3]}-1.0.0${ext}`);
      const { path, res } = await download(e);
      expect(res.headers.get("content-type")).toBe(e.fileType);
      expect(res.headers.get("etag")).toBe(`"${e.sha256}"`);
      expect(BigInt(res.headers.get("content-length")!)).toBe(e.sizeBytes);
      expect(tool("md5sum", path).split(" ")[0]).toBe(e.md5);
      expect(tool("sha256sum", path).split(" ")[0]).toBe(e.sha256);
      const entries = lister(path).trim().split("\n");
      // Regular files, readable by all, owned by nobody in particular.
      if (format === ExportFormat.ZIP) expect(tool("zipinfo", path)).toMatch(/^-rw-r--r--/m);
      else expect(tool("tar", format === ExportFormat.TAR ? "-tvf" : "-tvzf", path).split("\n")[0]).toMatch(/^-rw-r--r-- 0\/0 /);
      expect(entries).toEqual(["modelreg.json", ...Object.keys(files).sort()]);

      // The archive's own modelreg.json describes the version and every file.
      const out = join(dir, `x-${e.uid}`);
      await mkdir(out);
      if (format === ExportFormat.ZIP) tool("unzip", "-q", path, "-d", out);
      else tool("tar", "-xf", path, "-C", out);
      const manifest = fromJsonString(ExportManifestSchema, tool("cat", join(out, "modelreg.json")));
      expect(manifest.formatVersion).toBe(1);
      expect(manifest.version!.name).toBe(version);
      expect(manifest.version!.labels).toEqual({ team: "risk" });
      const { version: v } = await t.client.versions.getVersion({ ref: { case: "name", value: version } });
      expect(manifest.version!.manifestDigest).toBe(v!.manifestDigest);
      expect(manifest.files.map((f) => [f.path, Number(f.sizeBytes), f.sha256])).toEqual(
        Object.keys(files)
          .sort()
          .map((p) => [p, files[p]!.length, createHash("sha256").update(files[p]!).digest("hex")]),
      );
      for (const [p, bytes] of Object.entries(files)) expect(execFileSync("cat", [join(out, p)]).equals(bytes)).toBe(true);

      // Asking again returns the same export; force makes a new one with the same bytes.
      const again = await ex(t).createExport({ parent: version, format });
      expect(again.created).toBe(false);
      expect(again.export!.uid).toBe(e.uid);
      const forced = await ex(t).createExport({ parent: version, format, force: true });
      expect(forced.created).toBe(true);
      const second = await waitDone(forced.export!.name);
      expect(second.sha256).toBe(e.sha256);
      expect(second.md5).toBe(e.md5);
    }, 60_000);
  }

  it("gives the latest export that did not fail, and says when there is none", async () => {
    const version = await readyVersion();
    const none = await ex(t).getLatestExport({ parent: version });
    expect(none.hasRecord).toBe(false);
    expect(none.export).toBeUndefined();
    const { export: zip } = await ex(t).createExport({ parent: version, format: ExportFormat.ZIP });
    await waitDone(zip!.name);
    const { export: tar } = await ex(t).createExport({ parent: version, format: ExportFormat.TAR });
    await waitDone(tar!.name);
    expect((await ex(t).getLatestExport({ parent: version })).export!.uid).toBe(tar!.uid);
    expect((await ex(t).getLatestExport({ parent: version, format: ExportFormat.ZIP })).export!.uid).toBe(zip!.uid);
    // Cancelled ones do not count.
    await ex(t).deleteExport({ name: tar!.name });
    expect((await ex(t).getLatestExport({ parent: version })).export!.uid).toBe(zip!.uid);
  }, 60_000);

  it("lists the exports of a version and of a model, newest first, by page and filter", async () => {
    const version = await readyVersion();
    const names: string[] = [];
    for (const format of [ExportFormat.TAR, ExportFormat.ZIP, ExportFormat.TAR_GZ]) {
      const { export: e } = await ex(t).createExport({ parent: version, format });
      names.push(e!.name);
      await waitDone(e!.name);
    }
    const p1 = await ex(t).listExports({ parent: version, pageSize: 2 });
    expect(p1.exports.map((e) => e.name)).toEqual([names[2], names[1]]);
    const p2 = await ex(t).listExports({ parent: version, pageSize: 2, pageToken: p1.nextPageToken });
    expect(p2.exports.map((e) => e.name)).toEqual([names[0]]);
    expect(p2.nextPageToken).toBe("");
    const model = version.split("/versions/")[0]!;
    const all = await ex(t).listExports({ parent: `${model}/versions/-`, filter: "format = ZIP AND state = SUCCEEDED" });
    expect(all.exports.map((e) => e.name)).toEqual([names[1]]);
    expect(all.exports[0]!.downloadUrl).not.toBe("");
    const bad = await failure(ex(t).listExports({ parent: version, filter: "color = red" }));
    expect(bad.code).toBe(Code.InvalidArgument);
  }, 60_000);

  it("refuses what cannot be exported, with the code and a message that says what to fix", async () => {
    const pending = await readyVersion(false);
    const p = await failure(ex(t).createExport({ parent: pending, format: ExportFormat.TAR }));
    expect(p.code).toBe(Code.FailedPrecondition);
    expect(p.reason).toBe("VERSION_PENDING");
    expect(p.message).toContain("commit its files");
    const missing = await failure(ex(t).createExport({ parent: `${ws}/models/nope/versions/1.0.0`, format: ExportFormat.TAR }));
    expect(missing.code).toBe(Code.NotFound);
    const version = await readyVersion();
    const noFormat = await failure(ex(t).createExport({ parent: version }));
    expect(noFormat.code).toBe(Code.InvalidArgument);
    expect(noFormat.fieldViolations[0]).toMatchObject({ field: "format" });
    const unknown = await failure(ex(t).createExport({ parent: version, format: 9 as ExportFormat }));
    expect(unknown.fieldViolations[0]!.description).toContain("TAR, TAR_GZ or ZIP");
    const badName = await failure(ex(t).getExport({ name: `${version}/exports/42` }));
    expect(badName.code).toBe(Code.InvalidArgument);
    const gone = await failure(ex(t).getExport({ name: `${version}/exports/00000000-0000-4000-8000-000000000000` }));
    expect(gone.code).toBe(Code.NotFound);

    const { export: e } = await ex(t).createExport({ parent: version, format: ExportFormat.TAR });
    const done = await waitDone(e!.name);
    const finished = await failure(ex(t).cancelExport({ name: e!.name }));
    expect(finished.code).toBe(Code.FailedPrecondition);
    expect(finished.reason).toBe("EXPORT_FINISHED");

    // A tampered or truncated URL is refused.
    const url = new URL(done.downloadUrl, t.url);
    const sig = url.searchParams.get("sig")!;
    url.searchParams.set("sig", `${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`);
    expect((await fetch(url)).status).toBe(403);
  }, 60_000);

  it("cancels an export before a server takes it, and a new request then makes a new one", async () => {
    // A server whose job engine has not started yet: the export stays PENDING.
    const idle = await startTestServer(kind, { startJobs: false });
    try {
      const c = idle.client;
      await c.models.createModel({ parent: ws, modelId: "m" });
      const { version } = await c.versions.createVersion({ parent: `${ws}/models/m` });
      await c.uploadFile(version!.name, await (async () => {
        const p = join(dir, "one.bin");
        await writeFile(p, randomBytes(1000));
        return p;
      })());
      const { export: e } = await ex(idle).createExport({ parent: version!.name, format: ExportFormat.TAR_GZ });
      const { export: cancelled } = await ex(idle).cancelExport({ name: e!.name });
      expect(cancelled!.state).toBe(ExportState.CANCELLED);
      expect(cancelled!.endTime).toBeDefined();
      expect((await ex(idle).getLatestExport({ parent: version!.name })).hasRecord).toBe(false);
      const { export: next, created } = await ex(idle).createExport({ parent: version!.name, format: ExportFormat.TAR_GZ });
      expect(created).toBe(true);
      expect(next!.uid).not.toBe(e!.uid);
      idle.app.jobs.start();
      await idle.app.jobs.idle();
      expect((await ex(idle).getExport({ name: e!.name })).export!.state).toBe(ExportState.CANCELLED);
      expect((await ex(idle).getExport({ name: next!.name })).export!.state).toBe(ExportState.SUCCEEDED);
      // Deleted, its record is gone and its URL finds nothing.
      const { export: done } = await ex(idle).getExport({ name: next!.name });
      await ex(idle).deleteExport({ name: next!.name });
      expect((await failure(ex(idle).getExport({ name: next!.name }))).code).toBe(Code.NotFound);
      const { collectGarbage } = await import("../jobs/gc.js");
      await collectGarbage({ db: idle.database.db, store: idle.store, graceMs: 0 });
      expect((await fetch(new URL(done!.downloadUrl, idle.url))).status).toBe(404);
    } finally {
      await idle.close();
    }
  }, 60_000);

  it("cancels an export whose server died packing it, and its job ends CANCELLED once the lease is over", async () => {
    // No job engine runs here until the dead server's claims are in place.
    const s = await startTestServer(kind, { startJobs: false });
    try {
      await s.client.models.createModel({ parent: ws, modelId: "orphan" });
      const { version } = await s.client.versions.createVersion({ parent: `${ws}/models/orphan` });
      const src = join(dir, "orphan.bin");
      await writeFile(src, randomBytes(1000));
      await s.client.uploadFile(version!.name, src);
      const { export: e } = await ex(s).createExport({ parent: version!.name, format: ExportFormat.TAR });
      // A server claimed the job and the export, then died: nobody will renew the job's lease.
      const db = s.database.db;
      const job = await claimJob(db, { owner: "dead", leaseMs: 1 }, [EXPORT_JOB]);
      expect(await createExportRuns(db).claim(e!.uid, job!.attempts)).toMatchObject({ state: ExportState.RUNNING });
      const { export: c } = await ex(s).cancelExport({ name: e!.name });
      expect(c!.state).toBe(ExportState.CANCELLED);
      expect(c!.endTime).toBeDefined();
      s.app.jobs.start();
      const jobState = async () => (await db.select({ state: jobs.state }).from(jobs).where(eq(jobs.id, job!.id)))[0]!.state;
      await vi.waitFor(async () => expect(await jobState()).toBe(JOB_STATE.CANCELLED), { timeout: 20_000, interval: 20 });
      const { export: after } = await ex(s).getExport({ name: e!.name });
      expect(after).toMatchObject({ state: ExportState.CANCELLED, sha256: "", downloadUrl: "", endTime: c!.endTime });
    } finally {
      await s.close();
    }
  }, 60_000);

  it("fails an export for good after its tries, keeping the last error, and GetLatestExport skips it", async () => {
    const version = await readyVersion();
    // One of the version's files is gone from the store (a disk lost under the server).
    const { files: listed } = await t.client.files.listVersionFiles({ version: { case: "name", value: version }, path: "model.onnx" });
    await t.store.delete(listed[0]!.sha256);
    const { export: e } = await ex(t).createExport({ parent: version, format: ExportFormat.TAR });
    const failed = await waitDone(e!.name);
    expect(failed.state).toBe(ExportState.FAILED);
    expect(failed.attempts).toBe(3);
    expect(failed.errorMessage).toContain(listed[0]!.sha256);
    expect(failed.endTime).toBeDefined();
    expect(failed.sha256).toBe("");
    expect(failed.downloadUrl).toBe("");
    expect((await ex(t).getLatestExport({ parent: version })).hasRecord).toBe(false);
    // Asking again makes a new export rather than returning the failed one.
    const again = await ex(t).createExport({ parent: version, format: ExportFormat.TAR });
    expect(again.created).toBe(true);
  }, 60_000);

  it("cancels a running export within seconds", async () => {
    const model = `big${++n}`;
    await t.client.models.createModel({ parent: ws, modelId: model });
    const { version } = await t.client.versions.createVersion({ parent: `${ws}/models/${model}` });
    const big = join(dir, `big-${n}.bin`);
    await writeFile(big, randomBytes(48 * 1024 * 1024));
    await t.client.uploadFile(version!.name, big);
    const { export: e } = await ex(t).createExport({ parent: version!.name, format: ExportFormat.TAR_GZ });
    let running = false;
    for (let i = 0; i < 400 && !running; i++) {
      const { export: cur } = await ex(t).getExport({ name: e!.name });
      running = cur!.state === ExportState.RUNNING && cur!.bytesDone > 0n;
      if (!running) await new Promise((r) => setTimeout(r, 25));
    }
    // Cancelled while it packs (not before it starts, nor after it is done).
    expect(running, "the export never reported progress while RUNNING").toBe(true);
    const { export: c } = await ex(t).cancelExport({ name: e!.name });
    expect(c!.state).toBe(ExportState.CANCELLED);
    // The packing stops at the next lease renewal (how soon is the export bench's to measure).
    await t.app.jobs.idle();
    const { export: after } = await ex(t).getExport({ name: e!.name });
    expect(after!.state).toBe(ExportState.CANCELLED);
    expect(after!.bytesDone).toBeLessThan(after!.bytesTotal);
    expect(after!.sha256).toBe("");
  }, 60_000);

}
