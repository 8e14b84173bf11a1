// The plain-HTTP byte paths at their edges, through a real server on
// loopback: a range of an empty file, and upload chunks whose body is not
// what their Content-Range declares when no Content-Length says so.
import { createHash, randomBytes } from "node:crypto";
import { describeEachDatabase } from "@modelreg/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/test-app.js";
import { request } from "../testing/http-request.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");



describeEachDatabase("byte routes", (kind) => {
  let t: TestServer;
  let n = 0;
  beforeAll(async () => {
    t = await startTestServer(kind);
  }, 60_000);
  afterAll(async () => t?.close());

  async function staged(files: { path: string; data: Uint8Array }[]) {
    const model = `m${++n}`;
    await t.client.models.createModel({ parent: "workspaces/default", modelId: model });
    const { version } = await t.client.versions.createVersion({ parent: `workspaces/default/models/${model}` });
    const name = version!.name;
    const stage = await t.client.files.stageVersionFiles({ name, files: files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.data.length), sha256: sha256Of(f.data) })) });
    return { name, files: stage.files };
  }

  it("answers any range of an empty file with 416, and the whole of it with 200", async () => {
    const { name } = await staged([{ path: "empty.txt", data: Buffer.alloc(0) }]);
    await t.client.files.commitVersionFiles({ name });
    const [file] = (await t.client.files.listVersionFiles({ version: { case: "name", value: name } })).files;
    for (const range of ["bytes=-5", "bytes=0-", "bytes=0-0"]) {
      const r = await request(file!.downloadUrl, { headers: { range } });
      expect([range, r.status, r.headers["content-range"]]).toEqual([range, 416, "bytes */0"]);
    }
    const whole = await request(file!.downloadUrl);
    expect([whole.status, whole.headers["content-length"], whole.body.length]).toEqual([200, "0", 0]);
  });

  it("refuses a chunked upload whose body is shorter or longer than its Content-Range, and keeps none of it", async () => {
    const data = randomBytes(64 * 1024);
    const { name, files } = await staged([{ path: "w.bin", data }]);
    const up = files[0]!.upload!;
    const half = data.length / 2;
    const put = (range: string, parts: Uint8Array[]) => request(up.uploadUrl, { method: "PUT", headers: { "content-range": range }, parts });
    const offset = async () => (await t.client.files.getUploadSession({ name: up.name })).upload!.committedOffset;

    const short = await put(`bytes 0-${half - 1}/${data.length}`, [data.subarray(0, 1000), data.subarray(1000, half - 1)]);
    expect([short.status, JSON.parse(short.body.toString())]).toEqual([
      400,
      expect.objectContaining({ code: "invalid_argument", message: expect.stringContaining(`declared as ${half} bytes but carried ${half - 1}`) }),
    ]);
    expect(await offset()).toBe(0n);
    const long = await put(`bytes 0-${half - 1}/${data.length}`, [data.subarray(0, half), data.subarray(half, half + 1)]);
    expect([long.status, JSON.parse(long.body.toString()).code]).toEqual([400, "invalid_argument"]);
    expect(await offset()).toBe(0n);

    // Chunks that are what they declare go in, chunked or not.
    expect((await put(`bytes 0-${half - 1}/${data.length}`, [data.subarray(0, 1000), data.subarray(1000, half)])).status).toBe(200);
    expect(await offset()).toBe(BigInt(half));
    const last = await request(up.uploadUrl, {
      method: "PUT",
      headers: { "content-range": `bytes ${half}-${data.length - 1}/${data.length}`, "content-length": String(data.length - half) },
      parts: [data.subarray(half)],
    });
    expect([last.status, JSON.parse(last.body.toString()).state]).toEqual([200, "UPLOAD_STATE_COMPLETE"]);
    expect((await t.client.files.commitVersionFiles({ name })).version!.totalSizeBytes).toBe(BigInt(data.length));
  });
});
