// Files of versions through a real server on loopback, on both databases:
// staging, both upload paths, commit, listing, both download paths, and
// every refusal. Plain node:http requests stand in for curl.
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { Code, type StageVersionFilesResponse, UploadState, VersionState } from "@modelreg/sdk";
import { createUrlSigner } from "../auth/signed-urls.js";
import { manifestDigest } from "../domain/files/manifest.js";
import { TEST_SIGNING_KEYS } from "../testing/test-store.js";
import { collectGarbage } from "../jobs/gc.js";
import { failure } from "../testing/failure.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";
import { type Reply, request } from "../testing/http-request.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const md5Of = (b: Uint8Array) => createHash("md5").update(b).digest("hex");



const json = (r: Reply) => JSON.parse(r.body.toString()) as Record<string, unknown>;


// Every database on the file store; PGlite on S3 too (the stores pass one
// contract suite of their own, see storage/blob-store.contract.test.ts).
describeEachDatabase("files", (kind) => suite(kind, "fs"));
describe("files [pglite, s3]", () => suite("pglite", "s3"));

function suite(kind: DriverKind, storeKind: "fs" | "s3") {
  let t: TestServer;
  const ws = "workspaces/default";
  let n = 0;
  beforeAll(async () => {
    t = await startTestServer(kind, { uploadsPerKey: 2, store: storeKind, maxChunkBytes: 2 * 1024 * 1024 });
  }, 60_000);
  afterAll(async () => t?.close());

  async function newVersion(model = `m${++n}`): Promise<string> {
    await t.client.models.createModel({ parent: ws, modelId: model }).catch(() => undefined);
    const { version } = await t.client.versions.createVersion({ parent: `${ws}/models/${model}` });
    return version!.name;
  }

  const spec = (path: string, data: Uint8Array, mediaType = "") => ({ path, sizeBytes: BigInt(data.length), sha256: sha256Of(data), mediaType });
  const put = (url: string, data: Uint8Array, start: number, total: number) =>
    request(new URL(url, t.url).toString(), {
      method: "PUT",
      headers: { "content-range": `bytes ${start}-${start + data.length - 1}/${total}`, "content-length": String(data.length) },
      body: data,
    });

  it("stages, uploads in chunks over HTTP, commits, lists and serves the files with Range and ETag", async () => {
    const name = await newVersion();
    const weights = randomBytes(3 * 1024 * 1024 + 17);
    const config = Buffer.from('{"layers": 12}');
    const staged = await t.client.files.stageVersionFiles({ name, files: [spec("weights/model.safetensors", weights), spec("./config.json", config), spec("empty.txt", Buffer.alloc(0))] });
    expect(staged.files.map((f) => [f.file!.path, f.present, f.file!.mediaType])).toEqual([
      ["weights/model.safetensors", false, "application/octet-stream"],
      ["config.json", false, "application/json"],
      ["empty.txt", true, "text/plain"],
    ]);
    expect(staged.bytesToUpload).toBe(BigInt(weights.length + config.length));
    const upload = staged.files[0]!.upload!;
    expect(upload).toMatchObject({ sha256: sha256Of(weights), sizeBytes: BigInt(weights.length), committedOffset: 0n, state: UploadState.ACTIVE });
    expect(upload.uploadUrl).toMatch(new RegExp(`^${t.url}/v1/uploads/`));

    // Not READY yet: nothing can be read, and the commit names what is missing.
    expect((await failure(t.client.files.listVersionFiles({ version: { case: "name", value: name } }))).reason).toBe("VERSION_PENDING");
    const early = await failure(t.client.files.commitVersionFiles({ name }));
    expect([early.code, early.reason]).toEqual([Code.FailedPrecondition, "UPLOADS_INCOMPLETE"]);
    expect(early.message).toContain("weights/model.safetensors");

    const chunk = 1024 * 1024;
    for (let at = 0; at < weights.length; at += chunk) {
      const r = await put(upload.uploadUrl, weights.subarray(at, at + chunk), at, weights.length);
      expect(r.status).toBe(200);
      const body = json(r);
      expect(body.committedOffset).toBe(String(Math.min(weights.length, at + chunk)));
      expect(body.state).toBe(at + chunk >= weights.length ? "UPLOAD_STATE_COMPLETE" : "UPLOAD_STATE_ACTIVE");
    }
    // The whole body at once, without Content-Range.
    const whole = await request(staged.files[1]!.upload!.uploadUrl, { method: "PUT", body: config });
    expect([whole.status, json(whole).state]).toEqual([200, "UPLOAD_STATE_COMPLETE"]);

    const { version } = await t.client.files.commitVersionFiles({ name });
    const entries = [
      { path: "weights/model.safetensors", size: weights.length, sha256: sha256Of(weights) },
      { path: "config.json", size: config.length, sha256: sha256Of(config) },
      { path: "empty.txt", size: 0, sha256: sha256Of(Buffer.alloc(0)) },
    ];
    expect(version).toMatchObject({ state: VersionState.READY, fileCount: 3n, totalSizeBytes: BigInt(weights.length + config.length), manifestDigest: manifestDigest(entries) });
    expect((await t.client.versions.getVersion({ ref: { case: "name", value: name } })).version!.state).toBe(VersionState.READY);

    await t.app.md5.idle();
    const listed = await t.client.files.listVersionFiles({ version: { case: "uid", value: version!.uid } });
    expect(listed.files.map((f) => f.path)).toEqual(["config.json", "empty.txt", "weights/model.safetensors"]);
    expect(listed.manifestDigest).toBe(version!.manifestDigest);
    const w = listed.files[2]!;
    expect(w.md5).toBe(md5Of(weights));

    const full = await request(w.downloadUrl);
    expect(full.status).toBe(200);
    expect(full.body.equals(weights)).toBe(true);
    expect(full.headers.etag).toBe(`"${sha256Of(weights)}"`);
    expect(full.headers["content-length"]).toBe(String(weights.length));
    expect(full.headers["content-disposition"]).toContain("model.safetensors");
    const part = await request(w.downloadUrl, { headers: { range: "bytes=100-199" } });
    expect([part.status, part.headers["content-range"]]).toEqual([206, `bytes 100-199/${weights.length}`]);
    expect(part.body.equals(weights.subarray(100, 200))).toBe(true);
    const tail = await request(w.downloadUrl, { headers: { range: "bytes=-10" } });
    expect(tail.body.equals(weights.subarray(weights.length - 10))).toBe(true);
    expect((await request(w.downloadUrl, { headers: { "if-none-match": `"${sha256Of(weights)}"` } })).status).toBe(304);
    const past = await request(w.downloadUrl, { headers: { range: `bytes=${weights.length}-` } });
    expect([past.status, past.headers["content-range"]]).toEqual([416, `bytes */${weights.length}`]);
    const head = await request(w.downloadUrl, { method: "HEAD" });
    expect([head.status, head.headers["content-length"], head.body.length]).toEqual([200, String(weights.length), 0]);
    // Download URLs are signed for one object: another digest or workspace is refused.
    const other = new URL(w.downloadUrl);
    other.pathname = other.pathname.replace(sha256Of(weights), sha256Of(config));
    expect((await request(other.toString())).status).toBe(403);
    const otherWs = new URL(w.downloadUrl);
    otherWs.searchParams.set("ws", "intruder");
    expect((await request(otherWs.toString())).status).toBe(403);
    const empty = await request(listed.files[1]!.downloadUrl);
    expect([empty.status, empty.body.length]).toEqual([200, 0]);

    // One file by path; NOT_FOUND for a path the version does not have.
    const one = await t.client.files.listVersionFiles({ version: { case: "name", value: name }, path: "config.json" });
    expect(one.files.map((f) => f.sha256)).toEqual([sha256Of(config)]);
    expect((await failure(t.client.files.listVersionFiles({ version: { case: "name", value: name }, path: "nope.bin" }))).code).toBe(Code.NotFound);
  });

  it("sends nothing for content the workspace holds, but makes another workspace prove it has the bytes", async () => {
    const data = randomBytes(100_000);
    const first = await newVersion();
    const s1 = await t.client.files.stageVersionFiles({ name: first, files: [spec("a.bin", data), spec("copy/a.bin", data)] });
    // Files with the same content share one session.
    expect(s1.files[0]!.upload!.name).toBe(s1.files[1]!.upload!.name);
    expect(s1.bytesToUpload).toBe(BigInt(data.length));
    await put(s1.files[0]!.upload!.uploadUrl, data, 0, data.length);
    await t.client.files.commitVersionFiles({ name: first });

    const second = await newVersion();
    const s2 = await t.client.files.stageVersionFiles({ name: second, files: [spec("renamed.bin", data)] });
    expect([s2.files[0]!.present, s2.bytesToUpload]).toEqual([true, 0n]);
    expect((await t.client.files.commitVersionFiles({ name: second })).version!.state).toBe(VersionState.READY);

    await t.client.workspaces.createWorkspace({ workspaceId: `other-${kind}` });
    await t.client.models.createModel({ parent: `workspaces/other-${kind}`, modelId: "m" });
    const { version } = await t.client.versions.createVersion({ parent: `workspaces/other-${kind}/models/m` });
    const s3 = await t.client.files.stageVersionFiles({ name: version!.name, files: [spec("a.bin", data)] });
    expect([s3.files[0]!.present, s3.bytesToUpload]).toEqual([false, BigInt(data.length)]);
    // Wrong bytes do not get it in by knowing the digest.
    const forged = await put(s3.files[0]!.upload!.uploadUrl, randomBytes(data.length), 0, data.length);
    expect(forged.status).toBe(400);
    expect(json(forged).message).toMatch(/starts over: send the content again from offset 0/);
    expect((await t.client.files.getUploadSession({ name: s3.files[0]!.upload!.name })).upload!.committedOffset).toBe(0n);
    expect((await put(s3.files[0]!.upload!.uploadUrl, data, 0, data.length)).status).toBe(200);
    expect((await t.client.files.commitVersionFiles({ name: version!.name })).version!.fileCount).toBe(1n);
  });

  it("lets two clients upload the same content at once and stores it once", async () => {
    const data = randomBytes(1_500_000);
    const [a, b] = [await newVersion(), await newVersion()];
    const [sa, sb] = (await Promise.all([a, b].map((name) => t.client.files.stageVersionFiles({ name, files: [spec("same.bin", data)] })))) as [StageVersionFilesResponse, StageVersionFilesResponse];
    // Different versions: two sessions, uploaded at the same time.
    const both = await Promise.all([sa, sb].map((s) => put(s.files[0]!.upload!.uploadUrl, data, 0, data.length)));
    expect(both.map((r) => [r.status, json(r).state])).toEqual([
      [200, "UPLOAD_STATE_COMPLETE"],
      [200, "UPLOAD_STATE_COMPLETE"],
    ]);
    await Promise.all([a, b].map((name) => t.client.files.commitVersionFiles({ name })));
    expect(await t.store.has(sha256Of(data))).toEqual({ size: data.length });
    // One session, two writers: one wins, the other is told where the session stands.
    const c = await newVersion();
    const more = randomBytes(1_000_000);
    const sc = await t.client.files.stageVersionFiles({ name: c, files: [spec("x.bin", more)] });
    const race = await Promise.all([0, 1].map(() => put(sc.files[0]!.upload!.uploadUrl, more, 0, more.length)));
    expect(race.filter((r) => r.status === 200 && json(r).state === "UPLOAD_STATE_COMPLETE").length).toBeGreaterThanOrEqual(1);
    for (const r of race) expect([200, 409]).toContain(r.status);
    expect((await t.client.files.getUploadSession({ name: sc.files[0]!.upload!.name })).upload!.state).toBe(UploadState.COMPLETE);
    expect((await t.client.files.commitVersionFiles({ name: c })).version!.state).toBe(VersionState.READY);
  });

  it("resumes from the committed offset after a cut connection, and refuses a chunk at the wrong offset", async () => {
    const name = await newVersion();
    const data = randomBytes(2 * 1024 * 1024);
    const { files } = await t.client.files.stageVersionFiles({ name, files: [spec("big.bin", data)] });
    const up = files[0]!.upload!;
    expect((await put(up.uploadUrl, data.subarray(0, 1024 * 1024), 0, data.length)).status).toBe(200);
    // The client dies half-way through the second chunk.
    await new Promise<void>((resolve) => {
      const req = http.request(up.uploadUrl, { method: "PUT", headers: { "content-range": `bytes ${1024 * 1024}-${data.length - 1}/${data.length}`, "content-length": String(1024 * 1024) } });
      req.on("error", () => resolve());
      req.write(data.subarray(1024 * 1024, 1024 * 1024 + 300_000), () => setTimeout(() => req.destroy(), 50));
    });
    let offset = -1n;
    for (let i = 0; i < 50 && offset !== BigInt(1024 * 1024); i++) {
      offset = (await t.client.files.getUploadSession({ name: up.name })).upload!.committedOffset;
      if (offset !== BigInt(1024 * 1024)) await new Promise((r) => setTimeout(r, 20));
    }
    expect(offset).toBe(BigInt(1024 * 1024));
    // Restaging returns the same session with its offset (a new run resumes).
    const again = await t.client.files.stageVersionFiles({ name, files: [spec("big.bin", data)] });
    expect([again.files[0]!.upload!.name, again.files[0]!.upload!.committedOffset, again.bytesToUpload]).toEqual([up.name, offset, BigInt(1024 * 1024)]);

    const wrong = await put(up.uploadUrl, data.subarray(0, 10), 0, data.length);
    expect(wrong.status).toBe(409);
    expect(json(wrong)).toMatchObject({ code: "failed_precondition", reason: "OFFSET_MISMATCH", metadata: { staged_size: String(1024 * 1024) } });
    const query = await request(up.uploadUrl, { method: "PUT", headers: { "content-range": `bytes */${data.length}` } });
    expect(json(query).committedOffset).toBe(String(1024 * 1024));
    expect((await put(up.uploadUrl, data.subarray(1024 * 1024), 1024 * 1024, data.length)).status).toBe(200);
    // A retried last chunk (its answer was lost) is answered, not refused.
    const retried = await put(up.uploadUrl, data.subarray(1024 * 1024), 1024 * 1024, data.length);
    expect([retried.status, json(retried).state]).toEqual([200, "UPLOAD_STATE_COMPLETE"]);
    await t.client.files.commitVersionFiles({ name });
  });

  it("moves bytes over the streaming RPCs too (gRPC), with offset and length on reads", async () => {
    const grpc = t.clientWith(undefined, "grpc");
    const name = await newVersion();
    const data = randomBytes(2_500_000);
    const { files } = await grpc.files.stageVersionFiles({ name, files: [spec("model.onnx", data)] });
    const up = files[0]!.upload!;
    async function* messages(from: number, to: number) {
      yield { name: up.name, offset: BigInt(from) };
      for (let at = from; at < to; at += 700_000) yield { data: data.subarray(at, Math.min(to, at + 700_000)) };
    }
    expect((await grpc.files.writeUpload(messages(0, 1_000_000))).upload!.committedOffset).toBe(1_000_000n);
    const wrong = await failure(grpc.files.writeUpload(messages(0, 10)));
    expect([wrong.code, wrong.reason, wrong.metadata.staged_size]).toEqual([Code.FailedPrecondition, "OFFSET_MISMATCH", "1000000"]);
    expect((await grpc.files.writeUpload(messages(1_000_000, data.length))).upload!.state).toBe(UploadState.COMPLETE);
    await grpc.files.commitVersionFiles({ name });

    const read = async (offset: number, length: number) => {
      const parts: Uint8Array[] = [];
      let file: unknown;
      for await (const m of grpc.files.readFile({ version: { case: "name", value: name }, path: "model.onnx", offset: BigInt(offset), length: BigInt(length) })) {
        if (m.file) file = m.file;
        expect(m.data.length).toBeLessThanOrEqual(1024 * 1024);
        parts.push(m.data);
      }
      return { file, bytes: Buffer.concat(parts) };
    };
    const all = await read(0, 0);
    expect(all.bytes.equals(data)).toBe(true);
    expect(all.file).toMatchObject({ path: "model.onnx", sizeBytes: BigInt(data.length), sha256: sha256Of(data) });
    expect((await read(123, 1000)).bytes.equals(data.subarray(123, 1123))).toBe(true);
    expect((await read(data.length, 0)).bytes.length).toBe(0);
    const past = await failure(read(data.length + 1, 0));
    expect([past.code, past.fieldViolations[0]?.field, past.message]).toEqual([Code.InvalidArgument, "offset", expect.stringContaining("past the end")]);
  });

  it("keeps READY files immutable unless overwritten, and swaps the whole manifest at the commit", async () => {
    const name = await newVersion();
    const v1 = Buffer.from("first");
    const v2 = Buffer.from("second");
    const a = await t.client.files.stageVersionFiles({ name, files: [spec("w.bin", v1)] });
    await put(a.files[0]!.upload!.uploadUrl, v1, 0, v1.length);
    await t.client.files.commitVersionFiles({ name });
    const ready = await failure(t.client.files.stageVersionFiles({ name, files: [spec("w.bin", v2)] }));
    expect([ready.code, ready.reason]).toEqual([Code.FailedPrecondition, "VERSION_READY"]);
    const b = await t.client.files.stageVersionFiles({ name, files: [spec("w.bin", v2), spec("extra.txt", v1)], overwrite: true });
    expect(b.files[1]!.present).toBe(true);
    // Until the commit, readers still get the old files.
    const before = await t.client.files.listVersionFiles({ version: { case: "name", value: name } });
    expect(before.files.map((f) => f.sha256)).toEqual([sha256Of(v1)]);
    await put(b.files[0]!.upload!.uploadUrl, v2, 0, v2.length);
    const { version } = await t.client.files.commitVersionFiles({ name });
    expect(version!.fileCount).toBe(2n);
    const after = await t.client.files.listVersionFiles({ version: { case: "name", value: name } });
    expect((await request(after.files.find((f) => f.path === "w.bin")!.downloadUrl)).body.toString()).toBe("second");
    expect((await failure(t.client.files.commitVersionFiles({ name }))).reason).toBe("NOTHING_STAGED");
  });

  it("refuses bad manifests field by field, and bad sessions, URLs and chunks with the right status", async () => {
    const name = await newVersion();
    const bad = await failure(
      t.client.files.stageVersionFiles({
        name,
        files: [
          { path: "../etc/passwd", sizeBytes: 1n, sha256: "a".repeat(64) },
          { path: "/abs", sizeBytes: 1n, sha256: "a".repeat(64) },
          { path: "ok.bin", sizeBytes: -1n, sha256: "XYZ" },
          { path: "A.BIN", sizeBytes: 1n, sha256: "b".repeat(64), mediaType: "not a type" },
          { path: "a.bin", sizeBytes: 1n, sha256: "b".repeat(64) },
          { path: "nul\u0000.bin", sizeBytes: 0n, sha256: "c".repeat(64) },
        ],
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.fieldViolations.map((v) => v.field).sort()).toEqual(
      ["files[0].path", "files[1].path", "files[2].sha256", "files[2].size_bytes", "files[3].media_type", "files[4].path", "files[5].path", "files[5].sha256"].sort(),
    );
    const missing = await failure(t.client.files.stageVersionFiles({ name: `${ws}/models/nope/versions/1.0.0`, files: [] }));
    expect(missing.code).toBe(Code.NotFound);
    expect((await failure(t.client.files.getUploadSession({ name: `${ws}/uploads/doesnotexist` }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.files.getUploadSession({ name: "uploads/x" }))).code).toBe(Code.InvalidArgument);

    const data = randomBytes(5000);
    const { files } = await t.client.files.stageVersionFiles({ name, files: [spec("x.bin", data)] });
    const url = new URL(files[0]!.upload!.uploadUrl);
    const tampered = new URL(url);
    tampered.pathname = "/v1/uploads/someoneelse";
    expect((await put(tampered.toString(), data, 0, data.length)).status).toBe(403);
    const forgedWs = new URL(url);
    forgedWs.searchParams.set("ws", "other");
    const refused = await put(forgedWs.toString(), data, 0, data.length);
    expect([refused.status, json(refused).reason]).toEqual([403, "SIGNED_URL_BAD_SIGNATURE"]);
    const unsigned = new URL(url);
    unsigned.search = "";
    expect((await put(unsigned.toString(), data, 0, data.length)).status).toBe(403);
    expect((await request(url.toString(), { method: "GET" })).status).toBe(405);
    // A URL this server signed, two hours ago, for one hour.
    const old = createUrlSigner({ keys: TEST_SIGNING_KEYS, now: () => Date.now() - 2 * 3600_000 });
    const expired = `${t.url}${old.sign({ path: url.pathname, workspace: "default", object: url.pathname.split("/").pop()!, method: "PUT", expiresInSeconds: 3600 })}`;
    const late = await put(expired, data, 0, data.length);
    expect([late.status, json(late).reason]).toEqual([403, "SIGNED_URL_EXPIRED"]);
    expect(json(late).message).toMatch(/expired/);
    // More bytes than the declared size.
    const over = await request(url.toString(), { method: "PUT", body: Buffer.concat([data, Buffer.from("x")]) });
    expect([over.status, json(over).code]).toEqual([400, "invalid_argument"]);
    const range = await request(url.toString(), { method: "PUT", headers: { "content-range": "bytes 0-10/99" }, body: data.subarray(0, 11) });
    expect(range.status).toBe(400);
    expect(json(range).message).toMatch(/expects 5000/);
    expect((await t.client.files.getUploadSession({ name: files[0]!.upload!.name })).upload!.committedOffset).toBe(0n);

    // A chunk over max_chunk_bytes (2 MiB here), on both paths; nothing is kept.
    const big = randomBytes(2 * 1024 * 1024 + 1);
    const s2 = await t.client.files.stageVersionFiles({ name, files: [spec("big.bin", big)] });
    const up = s2.files[0]!.upload!;
    expect(up.maxChunkBytes).toBe(BigInt(2 * 1024 * 1024));
    const tooBig = await put(up.uploadUrl, big, 0, big.length);
    expect([tooBig.status, json(tooBig).code]).toEqual([413, "invalid_argument"]);
    expect(json(tooBig).message).toMatch(/at most 2097152 bytes/);
    const streamed = await failure(
      t.client.files.writeUpload(
        (async function* () {
          yield { name: up.name, offset: 0n, data: big.subarray(0, 1024 * 1024) };
          yield { data: big.subarray(1024 * 1024) };
        })(),
      ),
    );
    expect([streamed.code, streamed.fieldViolations[0]?.field]).toEqual([Code.InvalidArgument, "data"]);
    expect((await t.client.files.getUploadSession({ name: up.name })).upload!.committedOffset).toBe(0n);
  });

  it("limits the uploads one key has in flight", async () => {
    const name = await newVersion();
    const blobsOf = [randomBytes(10), randomBytes(10), randomBytes(10)];
    const { files } = await t.client.files.stageVersionFiles({ name, files: blobsOf.map((b, i) => spec(`f${i}`, b)) });
    // Two slow uploads hold the key's two slots.
    const slow = files.slice(0, 2).map((f) => {
      const req = http.request(f.upload!.uploadUrl, { method: "PUT", headers: { "content-length": "10" } });
      req.on("error", () => {});
      req.write(blobsOf[0]!.subarray(0, 1));
      return req;
    });
    // Wait until the server holds both (not for a time: a busy machine may take longer to get them there).
    while (t.app.uploadsInFlight("") < 2) await new Promise((r) => setTimeout(r, 10));
    const third = await request(files[2]!.upload!.uploadUrl, { method: "PUT", body: blobsOf[2] });
    expect(third.status).toBe(429);
    expect(third.headers["retry-after"]).toMatch(/^\d+$/);
    expect(json(third)).toMatchObject({ code: "resource_exhausted", reason: "TOO_MANY_CONCURRENT" });
    for (const r of slow) r.destroy();
    // The next test uploads too: wait until the server has let go of both.
    while (t.app.uploadsInFlight("") > 0) await new Promise((r) => setTimeout(r, 10));
  });

  it("collects content nothing references any longer, and keeps what is still referenced", async () => {
    const keep = randomBytes(4000);
    const drop = randomBytes(4000);
    const kept = await newVersion();
    const gone = await newVersion();
    for (const [name, data] of [
      [kept, keep],
      [gone, drop],
    ] as const) {
      const { files } = await t.client.files.stageVersionFiles({ name, files: [spec("f.bin", data), spec("shared.bin", keep)] });
      for (const f of files) if (f.upload && f.upload.state === UploadState.ACTIVE) await put(f.upload.uploadUrl, f.file!.sha256 === sha256Of(keep) ? keep : drop, 0, 4000);
      await t.client.files.commitVersionFiles({ name });
    }
    const listed = await t.client.files.listVersionFiles({ version: { case: "name", value: gone } });
    const dropUrl = listed.files.find((f) => f.path === "f.bin")!.downloadUrl;
    // A pending upload of a deleted version goes too.
    const pending = await newVersion();
    const staged = await t.client.files.stageVersionFiles({ name: pending, files: [spec("p.bin", randomBytes(10))] });
    await t.client.versions.deleteVersion({ name: gone });
    await t.client.versions.deleteVersion({ name: pending });

    expect(await t.store.has(sha256Of(drop))).toEqual({ size: 4000 });
    const r = await collectGarbage({ db: t.database.db, store: t.store, graceMs: 0 });
    expect(r.blobsDeleted).toBeGreaterThanOrEqual(1);
    expect(r.sessionsRemoved).toBeGreaterThanOrEqual(1);
    expect(await t.store.has(sha256Of(drop))).toBeUndefined();
    expect(await t.store.has(sha256Of(keep))).toEqual({ size: 4000 });
    expect((await request(dropUrl)).status).toBe(404);
    expect((await failure(t.client.files.getUploadSession({ name: staged.files[0]!.upload!.name }))).code).toBe(Code.NotFound);
    const still = await t.client.files.listVersionFiles({ version: { case: "name", value: kept } });
    for (const f of still.files) expect((await request(f.downloadUrl)).status).toBe(200);
  });
}
