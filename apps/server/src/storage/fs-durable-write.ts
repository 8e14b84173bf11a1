// How the file-system blob store writes so that a crash loses nothing it
// reported stored: fsyncs of files and of the directories that name them,
// batched writes that overlap the disk with the network, and publish(), which
// makes a finished temp file the blob under its final name (see the top of
// fs-blob-store.ts for why a hard link).
import { type FileHandle, link, mkdir, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoOf } from "./blob-store.js";
import type { FsStore } from "./fs-context.js";
import { recycle } from "./read-buffers.js";

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then fsync the parent of every directory it made, so they survive a crash. */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) return;
  }
}

/**
 * Writes all of `chunks` at `position`, in one writev (no copy into one
 * buffer: that doubled the bytes allocated per upload, and the garbage
 * collector's work with them); a write may be short, so it goes on from
 * where it stopped.
 */
async function writeAt(handle: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  let rest = chunks;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const next: Uint8Array[] = [];
    for (const c of rest) {
      if (skip >= c.length) skip -= c.length;
      else {
        next.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
    }
    rest = next;
  }
}

/** Bytes gathered into one write: network chunks are ~64 KiB, and a write per chunk costs a thread-pool round trip. */
const WRITE_BATCH = 1 << 20;
/**
 * Bytes written between background datasyncs: half an upload's 16 MiB
 * commit step, so the first half is flushed while the second arrives and
 * the step's closing fsync has half as much left to do (a 256 MiB staged
 * append measured 10-25% faster in 16 MiB steps than with 64 MiB here).
 */
const SYNC_EVERY = 8 << 20;

/**
 * Writes a stream of chunks from `position` on, in batches of ~1 MiB, with
 * one batch being written while the next is read (so the disk and the
 * network overlap). Returns the position after the last byte, once every
 * write and background datasync is done.
 */
export async function writeAll(handle: FileHandle, chunks: AsyncIterable<Uint8Array>, position: number): Promise<number> {
  const { end, syncs } = await writeChunks(handle, chunks, position);
  await syncs;
  return end;
}

/**
 * writeAll, returning once every write is done; `syncs` settles when the
 * background datasyncs have (the caller awaits it before its own fsync).
 * On failure, nothing is left running.
 */
export async function writeChunks(handle: FileHandle, chunks: AsyncIterable<Uint8Array>, position: number): Promise<{ end: number; syncs: Promise<void> }> {
  let inFlight: Promise<void> = Promise.resolve();
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let at = position;
  // A datasync beside the writes every SYNC_EVERY bytes, so the disk works
  // while bytes arrive and the caller's final fsync has little left to do.
  let syncing: Promise<void> = Promise.resolve();
  let sinceSync = 0;
  const flush = async () => {
    await inFlight;
    const buffers = batch;
    const where = at;
    at += batchBytes;
    sinceSync += batchBytes;
    batch = [];
    batchBytes = 0;
    // Written, the buffers go back to the blob reads that filled them
    // (./read-buffers.ts): this writer is each chunk's last reader.
    inFlight = writeAt(handle, buffers, where).then(() => buffers.forEach(recycle));
    if (sinceSync >= SYNC_EVERY) {
      sinceSync = 0;
      const previous = syncing;
      syncing = inFlight.then(() => previous).then(() => handle.datasync());
    }
  };
  try {
    for await (const chunk of chunks) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
    }
    if (batchBytes > 0) await flush();
    await inFlight;
  } catch (err) {
    // A failed read must not leave a write or sync running behind the caller's cleanup.
    await inFlight.catch(() => undefined);
    await syncing.catch(() => undefined);
    throw err;
  }
  // Settled by whoever awaits it; not unhandled meanwhile.
  syncing.catch(() => undefined);
  return { end: at, syncs: syncing };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return false;
    throw err;
  }
}

/** Makes the (fsynced) file at `path` the blob `sha256`; false when that blob exists already. */
export async function publish(ctx: FsStore, path: string, sha256: string): Promise<boolean> {
  const dest = ctx.blobPath(sha256);
  await ensureDir(dirname(dest));
  try {
    await link(path, dest);
  } catch (err) {
    const code = errnoOf(err);
    if (code === "EEXIST") return false;
    // File systems without hard links (some FUSE and SMB mounts): rename
    // is atomic too, but it cannot refuse an existing name, so two
    // concurrent puts of the same content may both report created.
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    if (await exists(dest)) return false;
    await rename(path, dest);
  }
  await fsyncDir(dirname(dest));
  return true;
}
