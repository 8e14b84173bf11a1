// Signed URLs are checked again when used, through a real server on
// loopback with auth on, on both databases: an upload or download URL stops
// working once the access key it was issued to is revoked, and a download
// URL once its version (or export) is deleted, without waiting for its
// expiry or for garbage collection.
import { createHash, randomBytes } from "node:crypto";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { ExportFormat, ExportState, Role } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/test-app.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> | string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: res.headers.get("content-type") === "application/json" ? (JSON.parse(text) as Record<string, unknown>) : text };
}

describeEachDatabase("signed URLs in use", (kind: DriverKind) => {
  let t: TestServer;
  let n = 0;
  beforeAll(async () => {
    t = await startTestServer(kind, { auth: true });
  }, 60_000);
  afterAll(async () => t?.close());

  const editorKey = async () =>
    (await t.client.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: `editor${++n}`, role: Role.EDITOR } }));
  const newVersion = async (client = t.client) => {
    const model = (await client.models.createModel({ parent: "workspaces/default", modelId: `m${++n}` })).model!;
    return (await client.versions.createVersion({ parent: model.name })).version!.name;
  };
  /** A READY version holding `data` as f.bin, uploaded and committed by `client`. */
  const readyVersion = async (data: Uint8Array, client = t.client) => {
    const name = await newVersion(client);
    const staged = await client.files.stageVersionFiles({ name, files: [{ path: "f.bin", sizeBytes: BigInt(data.length), sha256: sha256Of(data) }] });
    const upload = staged.files[0]!.upload;
    if (upload) expect((await send(upload.uploadUrl, { method: "PUT", body: data })).status).toBe(200);
    await client.files.commitVersionFiles({ name });
    return name;
  };
  const downloadUrlOf = async (version: string, client = t.client) =>
    (await client.files.listVersionFiles({ version: { case: "name", value: version } })).files[0]!.downloadUrl;

  it("refuses an upload URL once the key it was issued to is revoked; a valid key gets a new one", async () => {
    const key = await editorKey();
    const editor = t.clientWith(key.token);
    const name = await newVersion(editor);
    const data = randomBytes(1000);
    const staged = await editor.files.stageVersionFiles({ name, files: [{ path: "f.bin", sizeBytes: 1000n, sha256: sha256Of(data) }] });
    const upload = staged.files[0]!.upload!;
    expect(new URL(upload.uploadUrl).searchParams.get("ak")).toBe(key.accessKey!.keyId);
    const half = { method: "PUT", headers: { "content-range": "bytes 0-499/1000" }, body: data.subarray(0, 500) };
    expect((await send(upload.uploadUrl, half)).status).toBe(200);

    await t.client.workspaces.revokeAccessKey({ name: key.accessKey!.name });
    const refused = await send(upload.uploadUrl, { method: "PUT", headers: { "content-range": "bytes 500-999/1000" }, body: data.subarray(500) });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "permission_denied", reason: "SIGNED_URL_ACCESS_KEY_INVALID" });
    expect((refused.body as { message: string }).message).toMatch(/has been revoked.*request a new URL with a valid access key/);

    // The session lives on: a valid key asks for a new URL and finishes it.
    const again = (await t.client.files.getUploadSession({ name: upload.name })).upload!;
    expect(again.committedOffset).toBe(500n);
    expect((await send(again.uploadUrl, { method: "PUT", headers: { "content-range": "bytes 500-999/1000" }, body: data.subarray(500) })).status).toBe(200);
  });

  it("refuses a download URL once the key it was issued to is revoked", async () => {
    const key = await editorKey();
    const editor = t.clientWith(key.token);
    const data = randomBytes(100);
    const url = await downloadUrlOf(await readyVersion(data, editor), editor);
    expect((await send(url)).status).toBe(200);
    await t.client.workspaces.revokeAccessKey({ name: key.accessKey!.name });
    const refused = await send(url);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ reason: "SIGNED_URL_ACCESS_KEY_INVALID" });
  });

  it("serves a download URL's file no longer once its version is deleted, whatever garbage collection has done", async () => {
    const data = randomBytes(2000);
    const name = await readyVersion(data);
    const url = await downloadUrlOf(name);
    const served = await send(url);
    expect(served.status).toBe(200);
    await t.client.versions.deleteVersion({ name });
    // The content is still stored (collected only after its grace period), but no version has it.
    expect(await t.store.has(sha256Of(data))).toEqual({ size: 2000 });
    const gone = await send(url);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: "not_found" });
  });

  it("keeps serving content another version of the workspace still has", async () => {
    const data = randomBytes(300);
    const first = await readyVersion(data);
    await readyVersion(data);
    const url = await downloadUrlOf(first);
    await t.client.versions.deleteVersion({ name: first });
    expect((await send(url)).status).toBe(200);
  });

  it("serves an export's archive no longer once the export is deleted", async () => {
    const name = await readyVersion(randomBytes(500));
    let e = (await t.client.exports.createExport({ parent: name, format: ExportFormat.TAR })).export!;
    // Wait for the job (a condition, checked every 50 ms; the test's timeout catches a hang).
    while (e.state !== ExportState.SUCCEEDED) {
      expect([ExportState.PENDING, ExportState.RUNNING]).toContain(e.state);
      await new Promise((r) => setTimeout(r, 50));
      e = (await t.client.exports.getExport({ name: e.name })).export!;
    }
    const url = new URL(e.downloadUrl, t.url).toString();
    expect((await send(url)).status).toBe(200);
    await t.client.exports.deleteExport({ name: e.name });
    expect((await send(url)).status).toBe(404);
  });
});
