// Whole-blob writes of the file-system blob store: put() through a temp file
// (root/tmp/<uuid>.put) that becomes the blob once it is complete and
// verified, delete(), and the sweep of temp files that puts left behind.
import { randomUUID } from "node:crypto";
import { open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { checkSha256, Digester, errnoOf, expectationsOf, hashedBody, verify } from "./blob-store.js";
import type { FsStore } from "./fs-context.js";
import { ensureDir, publish, writeAll } from "./fs-durable-write.js";
import type { BlobBody, PutOptions, PutResult } from "../domain/ports/blob-store.js";

export async function putBlob(ctx: FsStore, body: BlobBody, opts: PutOptions = {}): Promise<PutResult> {
  const { tmpDir } = ctx;
  const expected = expectationsOf(opts);
  await ensureDir(tmpDir);
  const tmp = join(tmpDir, `${randomUUID()}.put`);
  const digester = new Digester({ md5: "thread" });
  try {
    const handle = await open(tmp, "wx");
    try {
      await writeAll(handle, hashedBody(body, digester, expected, opts.signal), 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const got = digester.result();
    verify(expected, got);
    return { ...got, created: await publish(ctx, tmp, got.sha256) };
  } finally {
    // After publish the blob is the link; the temp name goes either way.
    await rm(tmp, { force: true });
  }
}

export async function deleteBlob(ctx: FsStore, sha256: string): Promise<void> {
  await rm(ctx.blobPath(checkSha256(sha256)), { force: true });
}

export async function sweepAbandoned(ctx: FsStore, olderThanMs: number): Promise<number> {
  const { tmpDir } = ctx;
  let names: string[];
  try {
    names = (await readdir(tmpDir)).filter((n) => n.endsWith(".put"));
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    try {
      // A put in progress writes all the time; only a silent one is abandoned.
      if (Date.now() - (await stat(join(tmpDir, name))).mtimeMs < olderThanMs) continue;
      await rm(join(tmpDir, name), { force: true });
      removed += 1;
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw err;
    }
  }
  return removed;
}
