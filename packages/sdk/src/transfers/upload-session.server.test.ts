// An upload session's edge cases against the real server: a client that
// starts at a stale offset is told the committed one (HTTP 409 / ReadFile
// OFFSET_MISMATCH) and continues from there; bytes that do not hash to the
// staged sha256 are refused, not retried.
import { writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { UploadState } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../errors.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";
import type { TransferContext } from "./context.js";
import { hashFile } from "./hash.js";
import { contentRange, createAgents, httpRequest, readText } from "./http.js";
import { DEFAULT_RETRY } from "./retry.js";
import { sendSession } from "./upload-session.js";

let server: TestServer;
let tmp: { path: string; remove(): Promise<void> };
let ctx: TransferContext;
beforeAll(async () => {
  server = await startTestServer("pglite");
  tmp = await tempDir("sdk-session");
  const c = server.client;
  ctx = { files: c.files, streams: c.files, baseUrl: server.url, idleMs: undefined, agents: createAgents(), resolveVersion: async (ref) => c.versionName(ref), dropStreamConnection: () => {} };
}, 60_000);
afterAll(async () => {
  await server?.close();
  await tmp?.remove();
});

describe("upload sessions", () => {
  for (const transport of ["http", "stream"] as const) {
    it(`continues from the committed offset when the client's is stale (${transport})`, async () => {
      const data = patterned(300_000, transport === "http" ? 11 : 12);
      const src = join(tmp.path, `stale-${transport}.bin`);
      await writeFile(src, data);
      const digest = await hashFile(src);
      const version = await newVersion(server.client);
      const staged = await server.client.files.stageVersionFiles({ name: version, files: [{ path: "f.bin", sizeBytes: BigInt(digest.sizeBytes), sha256: digest.sha256 }] });
      const stale = staged.files[0]!.upload!;
      const common = { transport, policy: DEFAULT_RETRY, signal: undefined, onBytes: () => {} };
      // Someone (an earlier run) sent the first 100,000 bytes; this copy of the session still says 0.
      await sendFirstBytes(transport, stale.name, stale.uploadUrl, data.subarray(0, 100_000), data.length);
      const now = (await server.client.files.getUploadSession({ name: stale.name })).upload!;
      expect(now.committedOffset).toBe(100_000n);
      const offsets: number[] = [];
      const done = await sendSession(ctx, { session: stale, localPath: src }, { ...common, chunkBytes: 64 << 10, onBytes: (b) => offsets.push(b) });
      expect(done.state).toBe(UploadState.COMPLETE);
      expect(offsets).toContain(100_000);
      const ready = await server.client.files.commitVersionFiles({ name: version });
      expect(ready.version!.totalSizeBytes).toBe(300_000n);
      expect(Buffer.compare(Buffer.from(await server.client.downloadBytes(version, "f.bin")), data)).toBe(0);
    });

    it(`refuses content that changed after it was hashed, without retrying (${transport})`, async () => {
      const src = join(tmp.path, `changing-${transport}.bin`);
      await writeFile(src, patterned(200_000, transport === "http" ? 21 : 22));
      const version = await newVersion(server.client);
      let retries = 0;
      const err = await server.client
        .uploadFile(version, src, {
          transport,
          retry: { onRetry: () => retries++ },
          // After staging, before the first byte: the file changes, same size.
          onProgress: (p) => {
            if (p.bytesDone === 0) writeFileSync(src, patterned(200_000, 99));
          },
        })
        .catch((e) => e);
      expect(err).toMatchObject({ code: Code.InvalidArgument });
      expect(err.rawMessage).toMatch(/starts over/);
      expect(retries).toBe(0);
    });
  }
});

/** Bytes from offset 0, sent outside the SDK's upload loop. */
async function sendFirstBytes(transport: "http" | "stream", name: string, uploadUrl: string, bytes: Buffer, size: number): Promise<void> {
  if (transport === "stream") {
    await server.client.files.writeUpload(
      (async function* () {
        yield { name, offset: 0n, data: bytes };
      })(),
    );
    return;
  }
  const res = await httpRequest({
    url: new URL(uploadUrl, server.url),
    method: "PUT",
    headers: { "content-length": String(bytes.length), "content-range": contentRange(0, bytes.length, size) },
    body: Readable.from([bytes]),
    agents: ctx.agents,
  });
  const text = await readText(res);
  expect(res.statusCode, text).toBe(200);
}
