// Files of tasks through the upload machinery of versions, on both
// databases: a task's content staged inside a transaction (as the tasks
// domain does), its bytes sent through the signed PUT URL and WriteUpload,
// its sessions seen with their task, the content served by a signed
// download URL once held, and the sessions of versions and tasks kept
// apart; a deleted task's sessions go with garbage collection. Task rows
// are inserted directly: the tasks domain is not needed to own content.
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { taskFiles, tasks, uploadSessions } from "@modelreg/db";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { TaskState, TaskType } from "@modelreg/proto";
import { Code, UploadState } from "@modelreg/sdk";
import { eq } from "drizzle-orm";
import { createUrlSigner } from "../auth/signed-urls.js";
import { createTaskContent, type FileSpec, type TaskContent } from "../domain/files/index.js";
import { FailedPreconditionError, InvalidArgumentError } from "../domain/shared/errors.js";
import { createFileUrls } from "../http/file-urls.js";
import { collectGarbage } from "../jobs/gc.js";
import { failure } from "../testing/failure.js";
import { request } from "../testing/http-request.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";
import { TEST_SIGNING_KEYS } from "../testing/test-store.js";
import { fileWithUrl } from "./file-messages.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const spec = (path: string, data: Uint8Array, size = data.length): FileSpec => ({ path, size, sha256: sha256Of(data), mediaType: "" });

describeEachDatabase("task files", (kind) => suite(kind));

function suite(kind: DriverKind) {
  let t: TestServer;
  let content: TaskContent;
  let n = 0;
  const ws = "default";
  beforeAll(async () => {
    t = await startTestServer(kind);
    content = createTaskContent({ db: t.database.db, store: t.store });
  }, 60_000);
  afterAll(async () => t?.close());

  async function newTask() {
    const taskId = `t${++n}`;
    const [row] = await t.database.db
      .insert(tasks)
      .values({ workspace: ws, taskId, type: TaskType.PREDICT, template: "predict", queue: "default", state: TaskState.PENDING })
      .returning();
    return { owner: { workspace: ws, taskRowId: row!.id, taskId }, name: `workspaces/${ws}/tasks/${taskId}` };
  }

  /** Checks, then stages inside a transaction of its own, as the tasks domain does. */
  async function stage(owner: { workspace: string; taskRowId: string; taskId: string }, files: FileSpec[], field = "files") {
    const checked = await content.check(files, field);
    return t.database.db.transaction((tx) => content.stage(tx, owner, checked, "", field));
  }
  const requireHeld = (name: string, files: FileSpec[]) => t.database.db.transaction((tx) => content.requireHeld(tx, { workspace: ws, name }, files, "start the task"));
  const refusal = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  /** Content the workspace holds, uploaded for a version. */
  async function heldContent(data: Uint8Array, workspace = ws): Promise<void> {
    const model = `m${++n}`;
    await t.client.models.createModel({ parent: `workspaces/${workspace}`, modelId: model });
    const { version } = await t.client.versions.createVersion({ parent: `workspaces/${workspace}/models/${model}` });
    const staged = await t.client.files.stageVersionFiles({ name: version!.name, files: [{ path: "x.bin", sizeBytes: BigInt(data.length), sha256: sha256Of(data) }] });
    const up = staged.files[0]!.upload;
    if (up) expect((await request(new URL(up.uploadUrl, t.url).toString(), { method: "PUT", body: data })).status).toBe(200);
    await t.client.files.commitVersionFiles({ name: version!.name });
  }

  it("stages a task's files, takes the bytes over PUT and WriteUpload, and requires them held", async () => {
    const old = randomBytes(1000);
    const fresh = randomBytes(300_000);
    await heldContent(old);
    const { owner, name } = await newTask();
    const files = [spec("held.bin", old), spec("new/fresh.bin", fresh), spec("empty.txt", Buffer.alloc(0))];
    const staged = await stage(owner, files);
    expect(staged.files.map((s) => [s.file.path, s.present])).toEqual([
      ["held.bin", true],
      ["new/fresh.bin", false],
      ["empty.txt", true],
    ]);
    expect(staged.bytesToUpload).toBe(fresh.length);
    expect(staged.files[1]!.upload).toMatchObject({ task: name, version: "", sha256: sha256Of(fresh), size: fresh.length, committedOffset: 0, complete: false });

    const early = await refusal(requireHeld(name, files));
    expect(early).toBeInstanceOf(FailedPreconditionError);
    expect((early as FailedPreconditionError).reason).toBe("UPLOADS_INCOMPLETE");
    expect((early as Error).message).toContain(`1 staged file(s) of ${name} are not uploaded yet (new/fresh.bin); finish their upload sessions, then start the task`);

    // Downloads serve task content only once the workspace holds it.
    await t.database.db.insert(taskFiles).values({ taskId: owner.taskRowId, kind: 1, ...files[1]! });
    const urls = createFileUrls(createUrlSigner({ keys: TEST_SIGNING_KEYS }))(t.url);
    const [withMd5] = await content.withMd5(t.database.db, [files[1]!]);
    const download = fileWithUrl(ws, withMd5!, urls).downloadUrl;
    expect((await request(download)).status).toBe(404);

    // The session as the contract shows it: its task, no version.
    const { upload } = await t.client.files.getUploadSession({ name: staged.files[1]!.upload!.name });
    expect(upload).toMatchObject({ task: name, version: "", state: UploadState.ACTIVE, committedOffset: 0n });
    const half = 100_000;
    const put = await request(upload!.uploadUrl, {
      method: "PUT",
      headers: { "content-range": `bytes 0-${half - 1}/${fresh.length}` },
      body: fresh.subarray(0, half),
    });
    expect([put.status, JSON.parse(put.body.toString()).task]).toEqual([200, name]);
    async function* rest() {
      yield { name: upload!.name, offset: BigInt(half) };
      yield { data: fresh.subarray(half) };
    }
    const written = await t.client.files.writeUpload(rest());
    expect(written.upload).toMatchObject({ task: name, version: "", state: UploadState.COMPLETE, committedOffset: BigInt(fresh.length) });

    await requireHeld(name, files);
    expect((await request(download)).body.equals(fresh)).toBe(true);
    // Staged again, everything is present.
    expect((await stage(owner, files)).files.every((s) => s.present)).toBe(true);
    // Another workspace's URL for the same content serves nothing.
    expect((await request(fileWithUrl("other", withMd5!, urls).downloadUrl)).status).toBe(404);
  });

  it("serves a task's file only from a workspace that holds its content", async () => {
    // Stored for another workspace, declared by a task of this one: not this workspace's to read until it uploads it.
    const theirs = randomBytes(700);
    await t.client.workspaces.createWorkspace({ workspaceId: "elsewhere" });
    await heldContent(theirs, "elsewhere");
    const { owner } = await newTask();
    const file = spec("theirs.bin", theirs);
    await t.database.db.insert(taskFiles).values({ taskId: owner.taskRowId, kind: 1, ...file });
    const urls = createFileUrls(createUrlSigner({ keys: TEST_SIGNING_KEYS }))(t.url);
    const download = fileWithUrl(ws, { ...file, md5: "" }, urls).downloadUrl;
    expect((await request(download)).status).toBe(404);
    const up = (await stage(owner, [file])).files[0]!.upload!;
    const { upload } = await t.client.files.getUploadSession({ name: up.name });
    expect((await request(upload!.uploadUrl, { method: "PUT", body: theirs })).status).toBe(200);
    expect((await request(download)).body.equals(theirs)).toBe(true);
    // Gone with the task.
    await t.database.db.delete(tasks).where(eq(tasks.id, owner.taskRowId));
    expect((await request(download)).status).toBe(404);
  });

  it("refuses a declared size the held content does not have", async () => {
    const old = randomBytes(500);
    await heldContent(old);
    const { owner, name } = await newTask();
    const wrong = await refusal(stage(owner, [spec("a.bin", randomBytes(10)), spec("b.bin", old, 499)], "outputs"));
    expect(wrong).toBeInstanceOf(InvalidArgumentError);
    expect((wrong as InvalidArgumentError).violations).toEqual([
      { field: "outputs[1].size_bytes", description: expect.stringContaining("the workspace holds it, stored as 500 bytes") },
    ]);
    // Nothing of the refused staging stays.
    const rows = await t.database.db.select().from(uploadSessions).where(eq(uploadSessions.taskId, owner.taskRowId));
    expect(rows).toEqual([]);
    const mismatch = await refusal(requireHeld(name, [spec("b.bin", old, 499)]));
    expect([(mismatch as FailedPreconditionError).reason, (mismatch as Error).message]).toEqual([
      "SIZE_MISMATCH",
      expect.stringContaining("declare the files again with their true sizes, then start the task"),
    ]);
  });

  it("keeps a task's sessions when a version of the same workspace re-stages, and a task's manifests apart", async () => {
    const x = randomBytes(2000);
    const y = randomBytes(2000);
    const { owner, name } = await newTask();
    const taskSession = (await stage(owner, [spec("x.bin", x)])).files[0]!.upload!;

    await t.client.models.createModel({ parent: `workspaces/${ws}`, modelId: "shared" });
    const { version } = await t.client.versions.createVersion({ parent: `workspaces/${ws}/models/shared` });
    const both = await t.client.files.stageVersionFiles({
      name: version!.name,
      files: [{ path: "x.bin", sizeBytes: 2000n, sha256: sha256Of(x) }, { path: "y.bin", sizeBytes: 2000n, sha256: sha256Of(y) }],
    });
    const versionX = both.files[0]!.upload!;
    expect([versionX.version, versionX.task]).toEqual([version!.name, ""]);
    expect(versionX.name).not.toBe(taskSession.name);
    await request(both.files[1]!.upload!.uploadUrl, { method: "PUT", body: y });
    // Re-staged without x: the version's session for it ends, the task's stays.
    await t.client.files.stageVersionFiles({ name: version!.name, files: [{ path: "y.bin", sizeBytes: 2000n, sha256: sha256Of(y) }] });
    expect((await failure(t.client.files.getUploadSession({ name: versionX.name }))).code).toBe(Code.NotFound);
    await t.client.files.commitVersionFiles({ name: version!.name });
    expect((await t.client.files.getUploadSession({ name: taskSession.name })).upload!.task).toBe(name);

    // The task's next manifest (without x) keeps the session for x; the same content staged again renews it.
    await stage(owner, [spec("y.bin", y)]);
    expect((await stage(owner, [spec("x.bin", x)])).files[0]!.upload!.name).toBe(taskSession.name);
    // Declared with another size, the content gets a new session and the old one ends.
    const resized = (await stage(owner, [spec("x.bin", x, 2001)])).files[0]!.upload!;
    expect([resized.size, resized.name === taskSession.name]).toEqual([2001, false]);
    expect((await failure(t.client.files.getUploadSession({ name: taskSession.name }))).code).toBe(Code.NotFound);
  });

  it("collects the sessions of a deleted task", async () => {
    const z = randomBytes(5000);
    const { owner } = await newTask();
    const up = (await stage(owner, [spec("z.bin", z)])).files[0]!.upload!;
    const { upload } = await t.client.files.getUploadSession({ name: up.name });
    await request(upload!.uploadUrl, { method: "PUT", headers: { "content-range": `bytes 0-999/5000` }, body: z.subarray(0, 1000) });
    await t.database.db.delete(tasks).where(eq(tasks.id, owner.taskRowId));

    const gone = await failure(t.client.files.getUploadSession({ name: up.name }));
    expect([gone.code, gone.message]).toEqual([Code.NotFound, expect.stringContaining("its task was deleted")]);
    const r = await collectGarbage({ db: t.database.db, store: t.store, graceMs: 0 });
    expect(r.sessionsRemoved).toBeGreaterThanOrEqual(1);
    expect(await t.database.db.select().from(uploadSessions).where(eq(uploadSessions.id, up.id))).toEqual([]);
  });
}
