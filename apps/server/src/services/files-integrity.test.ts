// A READY version never lies about its files, on both databases: a declared
// size must be the stored content's size (at stage and again at commit),
// without telling a workspace what another holds; and a manifest of the
// largest size the contract allows stages in one call.
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import { newModelVersion } from "../testing/fixtures.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "@modelreg/db/testing";
import { Code, VersionState } from "@modelreg/sdk";
import { EMPTY_SHA256, MAX_FILES_PER_VERSION } from "../domain/files/index.js";
import { failure } from "../testing/failure.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function put(url: string, body: Uint8Array): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "PUT", headers: { "content-length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describeEachDatabase("files integrity", (kind) => {
  let t: TestServer;
  const ws = "workspaces/default";
  beforeAll(async () => {
    t = await startTestServer(kind);
  }, 60_000);
  afterAll(async () => t?.close());

  const newVersion = (workspace = ws) => newModelVersion(t.client, workspace);
  const spec = (path: string, data: Uint8Array, size = data.length) => ({ path, sizeBytes: BigInt(size), sha256: sha256Of(data) });

  /** A READY version holding `data`, so the workspace holds it. */
  async function holding(data: Uint8Array, workspace = ws): Promise<string> {
    const name = await newVersion(workspace);
    const { files } = await t.client.files.stageVersionFiles({ name, files: [spec("held.bin", data)] });
    if (files[0]!.upload) expect((await put(files[0]!.upload.uploadUrl, data)).status).toBe(200);
    await t.client.files.commitVersionFiles({ name });
    return name;
  }

  it("refuses a declared size that differs from the size of content the workspace holds", async () => {
    const data = randomBytes(8);
    await holding(data);
    const name = await newVersion();
    for (const size of [3, 2 ** 40]) {
      const refused = await failure(t.client.files.stageVersionFiles({ name, files: [spec("ok.txt", Buffer.from("x")), spec("w.bin", data, size)] }));
      expect([refused.code, refused.fieldViolations.map((v) => v.field)]).toEqual([Code.InvalidArgument, ["files[1].size_bytes"]]);
      expect(refused.fieldViolations[0]!.description).toMatch(new RegExp(`${size}.*stored as 8 bytes`));
    }
    // Empty content too: the workspace holds it as soon as a manifest names it.
    const empty = await failure(t.client.files.stageVersionFiles({ name, files: [{ path: "e.txt", sizeBytes: 5n, sha256: EMPTY_SHA256 }] }));
    expect([empty.fieldViolations[0]?.field, empty.fieldViolations[0]?.description]).toEqual(["files[0].size_bytes", expect.stringContaining("stored as 0 bytes")]);
    // The refused stages left nothing staged.
    expect((await failure(t.client.files.commitVersionFiles({ name }))).reason).toBe("NOTHING_STAGED");
    const staged = await t.client.files.stageVersionFiles({ name, files: [spec("w.bin", data)] });
    expect([staged.files[0]!.present, staged.bytesToUpload]).toEqual([true, 0n]);
    const { version } = await t.client.files.commitVersionFiles({ name });
    expect([version!.state, version!.totalSizeBytes]).toEqual([VersionState.READY, 8n]);
  });

  it("answers a wrong size for content another workspace holds as for unknown content, and never lets it in", async () => {
    const data = randomBytes(8);
    await holding(data);
    await t.client.workspaces.createWorkspace({ workspaceId: `other-${kind}` });
    const name = await newVersion(`workspaces/other-${kind}`);
    const unknown = randomBytes(8);
    const staged = await t.client.files.stageVersionFiles({ name, files: [spec("held-elsewhere.bin", data, 3), spec("unknown.bin", unknown, 3)] });
    // Both alike: not present, an upload session for 3 bytes each.
    for (const f of staged.files) expect([f.present, f.upload?.sizeBytes]).toEqual([false, 3n]);
    expect(staged.bytesToUpload).toBe(6n);
    // No 3 bytes have that digest, and the 8 that do are more than the session takes.
    const url = staged.files[0]!.upload!.uploadUrl;
    expect((await put(url, data)).status).toBe(400);
    const wrong = await put(url, data.subarray(0, 3));
    expect([wrong.status, wrong.body]).toEqual([400, expect.stringContaining("starts over")]);
    expect((await failure(t.client.files.commitVersionFiles({ name }))).reason).toBe("UPLOADS_INCOMPLETE");
  });

  it("checks the sizes again at commit: a draft staged before the content arrived does not commit a wrong size", async () => {
    const data = randomBytes(8);
    const stale = await newVersion();
    const early = await t.client.files.stageVersionFiles({ name: stale, files: [spec("w.bin", data, 3)] });
    expect([early.files[0]!.present, early.files[0]!.upload?.sizeBytes]).toEqual([false, 3n]);
    // Another version of the workspace uploads the content with its true size.
    await holding(data);
    const refused = await failure(t.client.files.commitVersionFiles({ name: stale }));
    expect([refused.code, refused.reason]).toEqual([Code.FailedPrecondition, "SIZE_MISMATCH"]);
    expect(refused.message).toMatch(/w\.bin.*3 bytes.*8/);
    expect((await t.client.versions.getVersion({ ref: { case: "name", value: stale } })).version!.state).toBe(VersionState.PENDING);
    await t.client.files.stageVersionFiles({ name: stale, files: [spec("w.bin", data)] });
    expect((await t.client.files.commitVersionFiles({ name: stale })).version!.totalSizeBytes).toBe(8n);
  });

  it("opens a new upload session when content is staged again with another size", async () => {
    const data = randomBytes(8);
    const name = await newVersion();
    const first = await t.client.files.stageVersionFiles({ name, files: [spec("w.bin", data, 3)] });
    const again = await t.client.files.stageVersionFiles({ name, files: [spec("w.bin", data)] });
    const up = again.files[0]!.upload!;
    expect([up.sizeBytes, up.name === first.files[0]!.upload!.name, again.bytesToUpload]).toEqual([8n, false, 8n]);
    expect((await failure(t.client.files.getUploadSession({ name: first.files[0]!.upload!.name }))).code).toBe(Code.NotFound);
    expect((await put(up.uploadUrl, data)).status).toBe(200);
    expect((await t.client.files.commitVersionFiles({ name })).version!.totalSizeBytes).toBe(8n);
  });

  it(`stages ${MAX_FILES_PER_VERSION} files of new content in one call, again, and then fewer`, async () => {
    const name = await newVersion();
    const files = Array.from({ length: MAX_FILES_PER_VERSION }, (_, i) => ({ path: `f/${i}.bin`, sizeBytes: 1n, sha256: sha256Of(Buffer.from(`${name} ${i}`)) }));
    const first = await t.client.files.stageVersionFiles({ name, files });
    expect([first.files.length, first.files.filter((f) => f.upload).length, first.bytesToUpload]).toEqual([files.length, files.length, BigInt(files.length)]);
    // Staging again keeps every session; staging fewer drops the rest.
    const again = await t.client.files.stageVersionFiles({ name, files });
    expect(again.files.every((f, i) => f.upload!.name === first.files[i]!.upload!.name)).toBe(true);
    const fewer = await t.client.files.stageVersionFiles({ name, files: files.slice(0, 10) });
    expect(fewer.files.map((f) => f.upload!.name)).toEqual(first.files.slice(0, 10).map((f) => f.upload!.name));
    expect((await failure(t.client.files.getUploadSession({ name: first.files[10]!.upload!.name }))).code).toBe(Code.NotFound);
    const committed = await failure(t.client.files.commitVersionFiles({ name }));
    expect([committed.reason, committed.metadata.missing_files]).toEqual(["UPLOADS_INCOMPLETE", "10"]);
  }, 120_000);
});
