// A request's bytes are committed every 16 MiB of the content, on both byte
// paths and both blob stores: the session's acknowledged offset moves while
// one large PUT (or WriteUpload stream) is still coming in, a request cut at
// N bytes keeps at least floor(N / 16 MiB) × 16 MiB of them (exactly that
// for a PUT, which declares its length), the upload continues
// from there to a verified blob, and two writers of one session at once
// leave it whole.
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import { describeEachDatabase } from "@modelreg/db/testing";
import type { UploadSession } from "@modelreg/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMIT_STEP_BYTES } from "../domain/files/index.js";
import { failure } from "../testing/failure.js";
import { request } from "../testing/http-request.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

const MiB = 1024 * 1024;
const STEP = COMMIT_STEP_BYTES;
const SIZE = 3 * STEP;
/** Where the requests are cut: past two whole steps, inside the third. */
const CUT = 2 * STEP + 8 * MiB + 12_345;

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Polls `read` until `ok` holds of its value; a bound only catches a server that never gets there. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, boundMs = 60_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting (${boundMs} ms) for ${what}; last seen: ${String(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A PUT of the whole of `data` that sends its first `n` bytes and then waits, open, for cut() or finish(). */
function openPut(url: string, data: Buffer, n: number) {
  const req = http.request(url, {
    method: "PUT",
    headers: { "content-range": `bytes 0-${SIZE - 1}/${SIZE}`, "content-length": String(SIZE) },
  });
  const answered = new Promise<number | Error>((resolve) => {
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("error", resolve);
  });
  let over = false;
  void answered.then(() => {
    over = true;
  });
  // Stops when the server has answered (a refusal may come before the whole body is sent).
  const write = async (from: number, to: number) => {
    for (let at = from; at < to && !over; at += MiB) {
      if (!req.write(data.subarray(at, Math.min(to, at + MiB)))) await Promise.race([new Promise((r) => req.once("drain", r)), answered]);
    }
  };
  const sent = write(0, n);
  return {
    sent,
    answered,
    cut: () => req.destroy(),
    finish: async () => {
      await write(n, SIZE);
      if (!over) req.end();
      return answered;
    },
  };
}

describeEachDatabase("upload commit steps", (kind) => {
  for (const storeKind of ["fs", "s3"] as const) {
    describe(`${storeKind} store`, () => {
      let t: TestServer;
      let n = 0;
      beforeAll(async () => {
        t = await startTestServer(kind, { store: storeKind });
      }, 60_000);
      afterAll(async () => t?.close());

      /** A version staged with one file of new content (the workspace holds none of it), and the content's session. */
      async function session(): Promise<{ version: string; upload: UploadSession; data: Buffer }> {
        const data = randomBytes(SIZE);
        const model = `m${++n}`;
        await t.client.models.createModel({ parent: "workspaces/default", modelId: model });
        const { version } = await t.client.versions.createVersion({ parent: `workspaces/default/models/${model}` });
        const staged = await t.client.files.stageVersionFiles({ name: version!.name, files: [{ path: "w.bin", sizeBytes: BigInt(SIZE), sha256: sha256Of(data) }] });
        return { version: version!.name, upload: staged.files[0]!.upload!, data };
      }
      const offsetOf = async (upload: UploadSession) => Number((await t.client.files.getUploadSession({ name: upload.name })).upload!.committedOffset);

      /** Commits the version and reads its file back over its download URL. */
      async function expectWhole(version: string, data: Buffer): Promise<void> {
        const ready = (await t.client.files.commitVersionFiles({ name: version })).version!;
        expect(ready.totalSizeBytes).toBe(BigInt(SIZE));
        const [file] = (await t.client.files.listVersionFiles({ version: { case: "name", value: version } })).files;
        const back = await request(file!.downloadUrl);
        expect([back.status, back.body.length, sha256Of(back.body)]).toEqual([200, SIZE, sha256Of(data)]);
      }

      it("moves the offset every 16 MiB within one PUT; a PUT cut at N bytes keeps floor(N / 16 MiB) × 16 MiB, and the rest completes it", async () => {
        const { version, upload, data } = await session();
        const put = openPut(upload.uploadUrl, data, CUT);
        await put.sent;
        // Acknowledged while the request is still open: the offset is a whole step, never a step in progress.
        const during = await until(() => offsetOf(upload), (o) => o >= 2 * STEP, `the offset to reach ${2 * STEP} during the PUT`);
        expect(during).toBe(2 * STEP);
        put.cut();
        expect(await put.answered).toBeInstanceOf(Error);
        const kept = await offsetOf(upload);
        expect(kept).toBe(Math.floor(CUT / STEP) * STEP);
        // The plain-HTTP query says the same.
        const query = await request(upload.uploadUrl, { method: "PUT", headers: { "content-range": `bytes */${SIZE}`, "content-length": "0" } });
        expect(JSON.parse(query.body.toString()).committedOffset).toBe(String(kept));
        const rest = await request(upload.uploadUrl, {
          method: "PUT",
          headers: { "content-range": `bytes ${kept}-${SIZE - 1}/${SIZE}`, "content-length": String(SIZE - kept) },
          body: data.subarray(kept),
        });
        expect([rest.status, JSON.parse(rest.body.toString()).state]).toEqual([200, "UPLOAD_STATE_COMPLETE"]);
        await expectWhole(version, data);
      });

      // A stream cut by a Node client (Connect's abort) does not always look
      // cut to the server: Node's HTTP/2 closes the stream's sending side
      // (END_STREAM) before it resets it, so when the cut falls between two
      // messages the server reads a whole stream of fewer bytes, and only the
      // reset that follows says otherwise. Those bytes are a true prefix of
      // the content (the digest is checked at commit), so the server keeps
      // them: the session then stands past the last whole step, at that
      // message's end. Either way no whole step is lost, and a client that
      // resumes from the offset it read, and is told the staging moved on
      // meanwhile (OFFSET_MISMATCH with staged_size, as the SDK handles it),
      // completes the content.
      it("keeps the whole steps of a WriteUpload stream cut midway", async () => {
        const { version, upload, data } = await session();
        const abort = new AbortController();
        const cut = new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve()));
        async function* messages() {
          for (let at = 0; at < CUT; at += MiB) {
            const chunk = data.subarray(at, Math.min(CUT, at + MiB));
            yield at === 0 ? { name: upload.name, offset: 0n, data: chunk } : { data: chunk };
          }
          await cut;
        }
        const call = t.client.files.writeUpload(messages(), { signal: abort.signal }).catch((e: unknown) => e);
        const during = await until(() => offsetOf(upload), (o) => o >= 2 * STEP, `the offset to reach ${2 * STEP} during the stream`);
        expect(during).toBe(2 * STEP);
        abort.abort();
        expect(await call).toBeInstanceOf(Error);
        // A true prefix the server kept: whole messages (1 MiB each), or all
        // CUT bytes when the stream ended whole after its last, shorter one.
        const isPrefix = (n: number) => n === CUT || (n < CUT && n % MiB === 0);
        const kept = await offsetOf(upload);
        expect(kept === 2 * STEP || (kept > 2 * STEP && isPrefix(kept)), `offset ${kept} after the cut`).toBe(true);
        async function* rest(from: number) {
          yield { name: upload.name, offset: BigInt(from), data: data.subarray(from, from + MiB) };
          for (let at = from + MiB; at < SIZE; at += MiB) yield { data: data.subarray(at, at + MiB) };
        }
        const done = await t.client.files.writeUpload(rest(kept)).catch(async (err: unknown) => {
          // The cut stream's last bytes were still being made durable when the offset was read.
          const moved = await failure(Promise.reject(err));
          const staged = Number(moved.metadata.staged_size);
          expect([moved.reason, staged > kept && isPrefix(staged)], `staged_size ${staged}, offset read ${kept}, cut at ${CUT}`).toEqual(["OFFSET_MISMATCH", true]);
          return t.client.files.writeUpload(rest(staged));
        });
        expect(done.upload!.committedOffset).toBe(BigInt(SIZE));
        await expectWhole(version, data);
      });

      it("two PUTs of the same session at once: one carries it, the other is refused at the offset, and the content is whole", async () => {
        const { version, upload, data } = await session();
        const a = openPut(upload.uploadUrl, data, STEP + MiB);
        const b = openPut(upload.uploadUrl, data, STEP + MiB);
        await Promise.all([a.sent, b.sent]);
        const answers = await Promise.all([a.finish(), b.finish()]);
        // The writer whose first step came second is refused at once (409); the other completes the content.
        expect(answers.sort()).toEqual([200, 409]);
        expect(await offsetOf(upload)).toBe(SIZE);
        await expectWhole(version, data);
      });
    });
  }
});
