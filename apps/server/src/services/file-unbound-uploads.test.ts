// CreateUploadSession through a real server on loopback, on both databases
// (and PGlite on S3): the workspace's holdings decide may_be_held; an
// unbound session takes its bytes over plain-HTTP PUT and WriteUpload like
// any session, resumes, survives a restage, and when complete shows the
// sha256 the server computed, which staging then finds present.
import { createHash, randomBytes } from "node:crypto";
import { blobs } from "@modelreg/db";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { Code, Role, UploadState, VersionState } from "@modelreg/sdk";
import { eq, sql } from "drizzle-orm";
import { newModelVersion } from "../testing/fixtures.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../testing/failure.js";
import { type Reply, request } from "../testing/http-request.js";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "../testing/test-app.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;
const headOf = (b: Uint8Array) => sha256Of(b.subarray(0, Math.min(b.length, MiB)));
const json = (r: Reply) => JSON.parse(r.body.toString()) as Record<string, unknown>;

describeEachDatabase("unbound uploads", (kind) => suite(kind, "fs"));
describe("unbound uploads [pglite, s3]", () => suite("pglite", "s3"));

function suite(kind: DriverKind, storeKind: "fs" | "s3") {
  let t: TestServer;
  const ws = "workspaces/default";
  beforeAll(async () => {
    t = await startTestServer(kind, { auth: true, store: storeKind, maxChunkBytes: 2 * MiB });
  }, 60_000);
  afterAll(async () => t?.close());

  const newVersion = (workspace = ws) => newModelVersion(t.client, workspace);
  const open = (parent: string, data: Uint8Array, head = headOf(data)) =>
    t.client.files.createUploadSession({ parent, sizeBytes: BigInt(data.length), headSha256: head });
  const put = (url: string, data: Uint8Array, start: number, total: number) =>
    request(new URL(url, t.url).toString(), {
      method: "PUT",
      headers: { "content-range": `bytes ${start}-${start + data.length - 1}/${total}`, "content-length": String(data.length) },
      body: data,
    });
  const spec = (path: string, data: Uint8Array) => ({ path, sizeBytes: BigInt(data.length), sha256: sha256Of(data) });
  async function download(name: string, path: string): Promise<Buffer> {
    const { files } = await t.client.files.listVersionFiles({ version: { case: "name", value: name }, path });
    const r = await request(new URL(files[0]!.downloadUrl, t.url).toString(), { method: "GET" });
    expect(r.status).toBe(200);
    return r.body;
  }
  const headInDb = async (sha256: string) => (await t.database.db.select({ head: blobs.headSha256 }).from(blobs).where(eq(blobs.sha256, sha256)))[0]?.head;

  it("takes an unbound session's bytes in PUT chunks, computes its sha256, and staging then sends nothing", async () => {
    const name = await newVersion();
    const data = randomBytes(3 * MiB + 17);
    const created = await open(name, data);
    expect(created.mayBeHeld).toBe(false);
    const up = created.upload!;
    expect(up).toMatchObject({ version: name, sha256: "", sizeBytes: BigInt(data.length), committedOffset: 0n, state: UploadState.ACTIVE, maxChunkBytes: BigInt(2 * MiB) });
    expect(up.name).toMatch(/^workspaces\/default\/uploads\/[A-Za-z0-9]+$/);
    expect(up.uploadUrl).not.toBe("");

    let last: Record<string, unknown> = {};
    for (let at = 0; at < data.length; at += MiB) {
      const r = await put(up.uploadUrl, data.subarray(at, at + MiB), at, data.length);
      expect(r.status).toBe(200);
      last = json(r);
      expect(last.committedOffset).toBe(String(Math.min(data.length, at + MiB)));
      if (at + MiB < data.length) expect([last.state, last.sha256 ?? ""]).toEqual(["UPLOAD_STATE_ACTIVE", ""]);
    }
    expect([last.state, last.sha256]).toEqual(["UPLOAD_STATE_COMPLETE", sha256Of(data)]);
    expect((await t.client.files.getUploadSession({ name: up.name })).upload).toMatchObject({ sha256: sha256Of(data), state: UploadState.COMPLETE, committedOffset: BigInt(data.length) });
    // The stored blob's head digest is computed from its bytes.
    expect(await headInDb(sha256Of(data))).toBe(headOf(data));

    const staged = await t.client.files.stageVersionFiles({ name, files: [spec("weights.bin", data)] });
    expect([staged.files[0]!.present, staged.files[0]!.upload, staged.bytesToUpload]).toEqual([true, undefined, 0n]);
    expect((await t.client.files.commitVersionFiles({ name })).version!.state).toBe(VersionState.READY);
    expect((await download(name, "weights.bin")).equals(data)).toBe(true);

    // The workspace now holds it: the same size and head may be held; a different head is not.
    const other = await newVersion();
    expect((await open(other, data)).mayBeHeld).toBe(true);
    const sameHeadOtherTail = Buffer.concat([data.subarray(0, MiB), randomBytes(data.length - MiB)]);
    expect((await open(other, sameHeadOtherTail)).mayBeHeld).toBe(true); // "may": only the first MiB is compared
    const otherHead = Buffer.from(data);
    otherHead[0] = otherHead[0]! ^ 1;
    expect((await open(other, otherHead)).mayBeHeld).toBe(false);
    expect((await open(other, data.subarray(1))).mayBeHeld).toBe(false); // another size
  });

  it("takes an unbound session's bytes over WriteUpload (gRPC), in several streams", async () => {
    const grpc = t.clientWith(TEST_ADMIN_TOKEN, "grpc");
    const name = await newVersion();
    const data = randomBytes(2_500_000);
    const up = (await grpc.files.createUploadSession({ parent: name, sizeBytes: BigInt(data.length), headSha256: headOf(data) })).upload!;
    async function* messages(from: number, to: number) {
      yield { name: up.name, offset: BigInt(from) };
      for (let at = from; at < to; at += 700_000) yield { data: data.subarray(at, Math.min(to, at + 700_000)) };
    }
    expect((await grpc.files.writeUpload(messages(0, 1_000_000))).upload).toMatchObject({ committedOffset: 1_000_000n, sha256: "", state: UploadState.ACTIVE });
    const done = (await grpc.files.writeUpload(messages(1_000_000, data.length))).upload!;
    expect(done).toMatchObject({ sha256: sha256Of(data), state: UploadState.COMPLETE, committedOffset: BigInt(data.length), uploadUrl: "" });
    // A retried last stream (its answer was lost) is answered with the complete session.
    expect((await grpc.files.writeUpload(messages(1_000_000, data.length))).upload).toMatchObject({ sha256: sha256Of(data), state: UploadState.COMPLETE });

    const staged = await grpc.files.stageVersionFiles({ name, files: [spec("model.onnx", data), spec("copy.onnx", data)] });
    expect([staged.files.map((f) => f.present), staged.bytesToUpload]).toEqual([[true, true], 0n]);
    await grpc.files.commitVersionFiles({ name });
    expect((await download(name, "copy.onnx")).equals(data)).toBe(true);
  });

  it("resumes from the committed offset, and a restage of the version leaves the session be", async () => {
    const name = await newVersion();
    const data = randomBytes(2 * MiB + 5);
    const up = (await open(name, data)).upload!;
    expect((await put(up.uploadUrl, data.subarray(0, MiB), 0, data.length)).status).toBe(200);
    // A stopped push of the same file, run again, takes the session up with its bytes.
    expect((await open(name, data)).upload).toMatchObject({ name: up.name, committedOffset: BigInt(MiB), state: UploadState.ACTIVE });

    // The version is staged meanwhile (another file, with a bound session): the unbound one stays.
    const small = randomBytes(1000);
    const staged = await t.client.files.stageVersionFiles({ name, files: [spec("small.bin", small)] });
    expect(staged.bytesToUpload).toBe(1000n);
    expect((await t.client.files.getUploadSession({ name: up.name })).upload).toMatchObject({ committedOffset: BigInt(MiB), state: UploadState.ACTIVE, sha256: "" });

    // A new run asks where to resume, is refused at the wrong offset, and continues over WriteUpload.
    const query = await request(up.uploadUrl, { method: "PUT", headers: { "content-range": `bytes */${data.length}` } });
    expect(json(query).committedOffset).toBe(String(MiB));
    const wrong = await put(up.uploadUrl, data.subarray(0, 10), 0, data.length);
    expect([wrong.status, json(wrong).reason]).toEqual([409, "OFFSET_MISMATCH"]);
    const done = await t.client.files.writeUpload(
      (async function* () {
        yield { name: up.name, offset: BigInt(MiB), data: data.subarray(MiB) };
      })(),
    );
    expect(done.upload).toMatchObject({ sha256: sha256Of(data), state: UploadState.COMPLETE });

    expect((await put(staged.files[0]!.upload!.uploadUrl, small, 0, small.length)).status).toBe(200);
    const again = await t.client.files.stageVersionFiles({ name, files: [spec("small.bin", small), spec("big.bin", data)] });
    expect([again.files.map((f) => f.present), again.bytesToUpload]).toEqual([[true, true], 0n]);
    await t.client.files.commitVersionFiles({ name });
    expect((await download(name, "big.bin")).equals(data)).toBe(true);
    // The commit ended the version's sessions, the unbound one too.
    expect((await failure(t.client.files.getUploadSession({ name: up.name }))).code).toBe(Code.NotFound);
  });

  it("lets unbound and bound sessions of one version take the same content at once, and opens another for another head", async () => {
    const name = await newVersion();
    const data = randomBytes(300_000);
    const a = (await open(name, data)).upload!;
    const other = Buffer.from(data);
    other[0] = other[0]! ^ 1;
    const b = (await open(name, other)).upload!;
    expect(b.name).not.toBe(a.name);
    const bound = await t.client.files.stageVersionFiles({ name, files: [spec("x.bin", data)] });
    const replies = await Promise.all([a, bound.files[0]!.upload!].map((s) => put(s.uploadUrl, data, 0, data.length)));
    expect(replies.map((r) => [r.status, json(r).state, json(r).sha256])).toEqual(Array(2).fill([200, "UPLOAD_STATE_COMPLETE", sha256Of(data)]));
    expect((await t.client.files.commitVersionFiles({ name })).version!.fileCount).toBe(1n);
  });

  it("says may_be_held for empty content and for held content whose head is not recorded, never for another workspace's", async () => {
    // Empty content: nothing to send, nothing opened, whatever the workspace holds.
    const name = await newVersion();
    const empty = await t.client.files.createUploadSession({ parent: name, sizeBytes: 0n, headSha256: sha256Of(Buffer.alloc(0)) });
    expect([empty.mayBeHeld, empty.upload]).toEqual([true, undefined]);

    // Content stored before heads were recorded: any content of its size may be it.
    const old = randomBytes(4321);
    await t.client.files.stageVersionFiles({ name, files: [spec("old.bin", old)] }).then((s) => put(s.files[0]!.upload!.uploadUrl, old, 0, old.length));
    expect(await headInDb(sha256Of(old))).toBe(sha256Of(old)); // bound uploads record the head too
    const fresh = randomBytes(4321);
    expect((await open(name, fresh)).mayBeHeld).toBe(false);
    await t.database.db.update(blobs).set({ headSha256: sql`NULL` }).where(eq(blobs.sha256, sha256Of(old)));
    expect((await open(name, fresh)).mayBeHeld).toBe(true);
    expect((await open(name, randomBytes(4322))).mayBeHeld).toBe(false);

    // Another workspace holding the content tells this one nothing.
    const otherWs = `workspaces/other-${kind}-${storeKind}`;
    await t.client.workspaces.createWorkspace({ workspaceId: otherWs.slice("workspaces/".length) });
    const elsewhere = randomBytes(200_000);
    const there = await newVersion(otherWs);
    const up = (await open(there, elsewhere)).upload!;
    expect(json(await put(up.uploadUrl, elsewhere, 0, elsewhere.length)).sha256).toBe(sha256Of(elsewhere));
    expect((await open(there, elsewhere)).mayBeHeld).toBe(true);
    const here = await newVersion();
    expect((await open(here, elsewhere)).mayBeHeld).toBe(false);
    // ...and its content comes in here only with the bytes.
    const mine = (await open(here, elsewhere)).upload!;
    expect(json(await put(mine.uploadUrl, elsewhere, 0, elsewhere.length))).toMatchObject({ state: "UPLOAD_STATE_COMPLETE", sha256: sha256Of(elsewhere) });
    expect((await t.client.files.stageVersionFiles({ name: here, files: [spec("e.bin", elsewhere)] })).bytesToUpload).toBe(0n);
  });

  it("refuses bad requests field by field, missing and READY versions, and viewers", async () => {
    const name = await newVersion();
    const head = "a".repeat(64);
    const call = (parent: string, sizeBytes: bigint, headSha256: string, overwrite = false) => failure(t.client.files.createUploadSession({ parent, sizeBytes, headSha256, overwrite }));

    const malformed = await call("workspaces/default/models/x", 10n, head);
    expect([malformed.code, malformed.fieldViolations.map((v) => v.field)]).toEqual([Code.InvalidArgument, ["parent"]]);
    expect((await call("", 10n, head)).fieldViolations.map((v) => v.field)).toEqual(["parent"]);
    const missing = await call(`${ws}/models/nope/versions/1.0.0`, 10n, head);
    expect(missing.code).toBe(Code.NotFound);

    const negative = await call(name, -1n, head);
    expect([negative.code, negative.fieldViolations.map((v) => v.field)]).toEqual([Code.InvalidArgument, ["size_bytes"]]);
    expect(negative.fieldViolations[0]!.description).toMatch(/expected 0 to 1099511627776 bytes/);
    expect((await call(name, 2n ** 40n + 1n, head)).fieldViolations.map((v) => v.field)).toEqual(["size_bytes"]);
    for (const bad of ["", "A".repeat(64), "a".repeat(63), "g".repeat(64)]) {
      const r = await call(name, 10n, bad);
      expect([r.code, r.fieldViolations.map((v) => v.field)]).toEqual([Code.InvalidArgument, ["head_sha256"]]);
      expect(r.fieldViolations[0]!.description).toMatch(/64 lowercase hex characters/);
    }
    expect((await call(name, -5n, "x")).fieldViolations.map((v) => v.field).sort()).toEqual(["head_sha256", "size_bytes"]);
    expect((await call(name, 0n, head)).fieldViolations.map((v) => v.field)).toEqual(["head_sha256"]); // empty content has one head

    // A READY version takes new content only for an overwrite, as staging does.
    await t.client.files.stageVersionFiles({ name, files: [] });
    await t.client.files.commitVersionFiles({ name });
    const ready = await call(name, 10n, head);
    expect([ready.code, ready.reason]).toEqual([Code.FailedPrecondition, "VERSION_READY"]);
    expect(ready.message).toMatch(/overwrite/);
    expect((await t.client.files.createUploadSession({ parent: name, sizeBytes: 10n, headSha256: head, overwrite: true })).upload!.state).toBe(UploadState.ACTIVE);

    const key = await t.client.workspaces.createAccessKey({ parent: ws, accessKey: { user: `viewer-${storeKind}`, role: Role.VIEWER } });
    const viewer = t.clientWith(key.token);
    const denied = await failure(viewer.files.createUploadSession({ parent: await newVersion(), sizeBytes: 10n, headSha256: head }));
    expect(denied.code).toBe(Code.PermissionDenied);
  });
}
