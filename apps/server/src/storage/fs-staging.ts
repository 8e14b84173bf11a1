// Staged (resumable) uploads on the file system: one file per staging,
// root/tmp/<id>, appended to at known offsets and, once its digest matches,
// made the blob by the same publish() a put uses. Operations on one id are
// serialised within the process (FsStore.queue).
import { type FileHandle, open, rm } from "node:fs/promises";
import { checkByteCount, checkStagingId, Digester, errnoOf, expectationsOf, verify } from "./blob-store.js";
import { appendEnded, appendingFrom, appendStarted, type FsStore } from "./fs-context.js";
import { ensureDir, fsyncDir, publish, writeChunks } from "./fs-durable-write.js";
import { type BlobBody, type CommitStagingOptions, type PutResult, readBody } from "../domain/ports/blob-store.js";
import { OffsetMismatchError, StagingNotFoundError } from "../domain/ports/blob-store-errors.js";

const READ_BUFFER = 1 << 20;
/** Running digests kept at most (FsStore.running). */
const MAX_RUNNING = 1000;

async function openStaging(ctx: FsStore, id: string, flags: string): Promise<FileHandle> {
  try {
    return await open(ctx.stagingPath(id), flags);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") throw new StagingNotFoundError(id);
    throw err;
  }
}

export async function createStaging(ctx: FsStore, id: string): Promise<void> {
  checkStagingId(id);
  await ensureDir(ctx.tmpDir);
  // "a" creates the file when missing and never truncates it.
  const handle = await open(ctx.stagingPath(id), "a");
  await handle.close();
  await fsyncDir(ctx.tmpDir);
}

/**
 * Appends under the staging's turn (FsStore.queue) only while writing: the
 * fsync that makes the bytes durable runs after it, so the next append of
 * the same staging (an upload's next step) writes meanwhile. This returns
 * once the bytes are durable. If they cannot be made so, they are dropped,
 * with whatever a later append wrote after them, in the staging's turn.
 */
export async function append(ctx: FsStore, id: string, offset: number, body: BlobBody, opts: { signal?: AbortSignal } = {}): Promise<number> {
  checkStagingId(id);
  checkByteCount(offset, "offset");
  const written = await ctx.queue(id, () => writeStep(ctx, id, offset, body, opts));
  try {
    try {
      await written.syncs;
      await (ctx.syncFile ?? syncFile)(written.handle);
    } catch (err) {
      await ctx.queue(id, () => dropFrom(ctx, id, written.handle, offset)).catch(() => undefined);
      throw err;
    }
    // An append before this one could not make its bytes durable meanwhile: this one's were dropped with them.
    const drop = ctx.drops.get(id);
    if (drop && drop.count !== written.drops) throw new OffsetMismatchError(id, offset, drop.from);
  } finally {
    appendEnded(ctx, id, offset);
    await written.handle.close();
  }
  return written.end;
}

/** Drops the staged bytes from `offset` on (never lengthening the file), and the running digest that saw them. */
async function dropFrom(ctx: FsStore, id: string, handle: FileHandle, offset: number): Promise<void> {
  const { size } = await handle.stat();
  ctx.drops.set(id, { count: (ctx.drops.get(id)?.count ?? 0) + 1, from: Math.min(offset, size) });
  ctx.running.delete(id);
  if (size > offset) await handle.truncate(offset);
}

const syncFile = (handle: FileHandle) => handle.sync();

/** The part of an append in the staging's turn: check the offset, write the bytes (hashing them on the way), hand on the running digest. */
async function writeStep(
  ctx: FsStore,
  id: string,
  offset: number,
  body: BlobBody,
  opts: { signal?: AbortSignal },
): Promise<{ handle: FileHandle; end: number; syncs: Promise<void>; drops: number | undefined }> {
  const { running } = ctx;
  const handle = await openStaging(ctx, id, "r+");
  try {
    const { size } = await handle.stat();
    if (size !== offset) throw new OffsetMismatchError(id, offset, size);
    appendStarted(ctx, id, offset);
    let digester = running.get(id);
    running.delete(id);
    if (offset === 0) digester = new Digester({ md5: false });
    if (digester && digester.size !== offset) digester = undefined;
    try {
      const hashed = (async function* () {
        for await (const chunk of readBody(body, opts.signal)) {
          digester?.update(chunk);
          yield chunk;
        }
      })();
      const { end, syncs } = await writeChunks(handle, hashed, offset);
      // The next append continues this digest while this one is made durable.
      if (digester) {
        if (running.size >= MAX_RUNNING) running.delete(running.keys().next().value!);
        running.set(id, digester);
      }
      return { handle, end, syncs, drops: ctx.drops.get(id)?.count };
    } catch (err) {
      // A failed append keeps nothing, so the caller resumes from `offset`
      // (and the running hash, which saw the lost bytes, is dropped).
      await handle.truncate(offset).catch(() => undefined);
      appendEnded(ctx, id, offset);
      throw err;
    }
  } catch (err) {
    await handle.close();
    throw err;
  }
}

export async function stagedSize(ctx: FsStore, id: string): Promise<number> {
  checkStagingId(id);
  // Not queued: an append may wait long on a slow client. During one, the
  // answer is where it started; `appending` is read again after the file's
  // size, in case one started meanwhile and wrote some of its bytes.
  const handle = await openStaging(ctx, id, "r");
  try {
    const before = appendingFrom(ctx, id);
    if (before !== undefined) return before;
    // After a crash the file may hold bytes of an append that never
    // returned; they were written in order, so they are a prefix of what
    // the client sent. Syncing before reporting makes the size durable;
    // if they are damaged after all, the digest check at commit says so.
    await handle.sync();
    const { size } = await handle.stat();
    return appendingFrom(ctx, id) ?? size;
  } finally {
    await handle.close();
  }
}

export async function commitStaging(
  ctx: FsStore,
  id: string,
  expectedSha256: string | undefined,
  opts: CommitStagingOptions = {},
): Promise<PutResult> {
  const { running } = ctx;
  checkStagingId(id);
  const expected = expectationsOf({ expectedSha256, expectedSize: opts.expectedSize });
  return ctx.queue(id, async () => {
    const path = ctx.stagingPath(id);
    const handle = await openStaging(ctx, id, "r");
    // Bytes this process hashed as they were appended need no second
    // pass; otherwise (a restart, a resumed append) they are read back:
    // Node cannot save a sha256 midway across processes.
    const hashed = running.get(id);
    running.delete(id);
    let digester = new Digester();
    try {
      if (hashed && hashed.size === (await handle.stat()).size) digester = hashed;
      else {
        const buffer = Buffer.allocUnsafe(READ_BUFFER);
        for (;;) {
          opts.signal?.throwIfAborted();
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, digester.size);
          if (bytesRead === 0) break;
          digester.update(buffer.subarray(0, bytesRead));
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    const got = digester.result();
    // On a mismatch the staging stays (see the interface); a retried commit re-reads it.
    verify(expected, got);
    await opts.beforePublish?.(got.sha256);
    const created = await publish(ctx, path, got.sha256);
    await rm(path, { force: true });
    ctx.drops.delete(id);
    return { ...got, created };
  });
}

export async function abortStaging(ctx: FsStore, id: string): Promise<void> {
  checkStagingId(id);
  // Not queued behind an append in progress: its writes go to the
  // unlinked file and are dropped with it.
  ctx.running.delete(id);
  ctx.drops.delete(id);
  await rm(ctx.stagingPath(id), { force: true });
}
