// The file-system blob store, the default (under DATA_DIR/blobs):
//
//   root/sha256/ab/abcdef…   one file per blob, named by its digest
//   root/tmp/<uuid>.put      a put in progress
//   root/tmp/<id>            a staged upload (ids cannot contain '.')
//
// Bytes go to a temp file that is fsynced, and become the blob by a hard
// link to the final name, after which the directory is fsynced too: a crash
// leaves either no blob or the whole blob, never a partial one. link() rather
// than rename() because link refuses an existing name atomically, so of two
// concurrent puts of the same content exactly one reports created, and an
// existing blob is never replaced. Where hard links are not supported the
// store falls back to rename (see publish()).
import { randomUUID } from "node:crypto";
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { checkByteCount, checkSha256, checkStagingId, Digester, errnoOf, expectationsOf, hashedBody, sliceOf, verify } from "./blob-store.js";
import { type BlobBody, type BlobStore, type PutResult, isSha256, readBody } from "../domain/ports/blob-store.js";
import { BlobNotFoundError, OffsetMismatchError, StagingNotFoundError } from "../domain/ports/blob-store-errors.js";

export interface FsBlobStoreOptions {
  /** Directory of the store, e.g. DATA_DIR/blobs; created when missing. */
  root: string;
}

const READ_BUFFER = 1 << 20;

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then fsync the parent of every directory it made, so they survive a crash. */
async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) return;
  }
}

/** Writes all of `chunk` at `position` (a write may be short). */
async function writeAt(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}

/** Bytes gathered into one write: network chunks are ~64 KiB, and a write per chunk costs a thread-pool round trip. */
const WRITE_BATCH = 1 << 20;
/** Bytes written between background datasyncs. */
const SYNC_EVERY = 64 << 20;

/**
 * Writes a stream of chunks from `position` on, in batches of ~1 MiB, with
 * one batch being written while the next is read (so the disk and the
 * network overlap). Returns the position after the last byte.
 */
async function writeAll(handle: FileHandle, chunks: AsyncIterable<Uint8Array>, position: number): Promise<number> {
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
    const buffer = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
    const where = at;
    at += batchBytes;
    sinceSync += batchBytes;
    batch = [];
    batchBytes = 0;
    inFlight = writeAt(handle, buffer, where);
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
  } finally {
    // A failed read must not leave a write or sync running behind the caller's cleanup.
    await inFlight.catch(() => undefined);
    await syncing.catch(() => undefined);
  }
  await inFlight;
  await syncing;
  return at;
}

/** Serialises the staging operations of one id within this process. */
function keyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(
      () => fn(),
      () => fn(),
    );
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

export function createFsBlobStore({ root }: FsBlobStoreOptions): BlobStore {
  const tmpDir = join(root, "tmp");
  const blobDir = join(root, "sha256");
  const blobPath = (sha256: string) => join(blobDir, sha256.slice(0, 2), sha256);
  const stagingPath = (id: string) => join(tmpDir, id);
  const queue = keyedQueue();
  // Staged size at the start of each append in progress: stagedSize()
  // reports only completed appends, as on S3, where an append in progress
  // is invisible.
  const appending = new Map<string, number>();
  // Running sha256 of stagings this process has seen appended from offset 0
  // in order, so their commit needs no second pass over the bytes. Lost on
  // restart (the commit then reads the bytes back); bounded.
  const running = new Map<string, Digester>();
  const MAX_RUNNING = 1000;

  /** Makes the (fsynced) file at `path` the blob `sha256`; false when that blob exists already. */
  async function publish(path: string, sha256: string): Promise<boolean> {
    const dest = blobPath(sha256);
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

  async function exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return false;
      throw err;
    }
  }

  async function openStaging(id: string, flags: string): Promise<FileHandle> {
    try {
      return await open(stagingPath(id), flags);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw new StagingNotFoundError(id);
      throw err;
    }
  }

  return {
    kind: "fs",

    async put(body, opts = {}) {
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
        return { ...got, created: await publish(tmp, got.sha256) };
      } finally {
        // After publish the blob is the link; the temp name goes either way.
        await rm(tmp, { force: true });
      }
    },

    async has(sha256) {
      try {
        const { size } = await stat(blobPath(checkSha256(sha256)));
        return { size };
      } catch (err) {
        if (errnoOf(err) === "ENOENT") return undefined;
        throw err;
      }
    },

    async get(sha256, range) {
      let handle: FileHandle;
      try {
        handle = await open(blobPath(checkSha256(sha256)), "r");
      } catch (err) {
        if (errnoOf(err) === "ENOENT") throw new BlobNotFoundError(sha256);
        throw err;
      }
      // Reading through the open handle, a delete that comes meanwhile
      // cannot cut the stream short.
      let slice: { start: number; end: number };
      try {
        slice = sliceOf(range, (await handle.stat()).size);
      } catch (err) {
        await handle.close();
        throw err;
      }
      if (slice.start === slice.end) {
        await handle.close();
        return Readable.from([]);
      }
      // 1 MiB reads: the default 64 KiB costs a thread-pool round trip per 64 KiB.
      return handle.createReadStream({ start: slice.start, end: slice.end - 1, autoClose: true, highWaterMark: 1 << 20 });
    },

    async delete(sha256) {
      await rm(blobPath(checkSha256(sha256)), { force: true });
    },

    async *list() {
      let shards: string[];
      try {
        shards = (await readdir(blobDir)).filter((s) => /^[0-9a-f]{2}$/.test(s)).sort();
      } catch (err) {
        if (errnoOf(err) === "ENOENT") return;
        throw err;
      }
      for (const shard of shards) {
        let names: string[];
        try {
          names = (await readdir(join(blobDir, shard))).filter((n) => isSha256(n) && n.startsWith(shard)).sort();
        } catch (err) {
          if (errnoOf(err) === "ENOENT") continue;
          throw err;
        }
        for (const name of names) {
          let size: number;
          try {
            size = (await stat(join(blobDir, shard, name))).size;
          } catch (err) {
            if (errnoOf(err) === "ENOENT") continue; // deleted meanwhile
            throw err;
          }
          yield { sha256: name, size };
        }
      }
    },

    async sweepAbandoned(olderThanMs) {
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
    },

    async createStaging(id) {
      checkStagingId(id);
      await ensureDir(tmpDir);
      // "a" creates the file when missing and never truncates it.
      const handle = await open(stagingPath(id), "a");
      await handle.close();
      await fsyncDir(tmpDir);
    },

    async append(id, offset, body: BlobBody, opts = {}) {
      checkStagingId(id);
      checkByteCount(offset, "offset");
      return queue(id, async () => {
        const handle = await openStaging(id, "r+");
        try {
          const { size } = await handle.stat();
          if (size !== offset) throw new OffsetMismatchError(id, offset, size);
          appending.set(id, offset);
          let digester = running.get(id);
          running.delete(id);
          if (offset === 0) digester = new Digester({ md5: false });
          if (digester && digester.size !== offset) digester = undefined;
          let position = offset;
          try {
            const hashed = (async function* () {
              for await (const chunk of readBody(body, opts.signal)) {
                digester?.update(chunk);
                yield chunk;
              }
            })();
            position = await writeAll(handle, hashed, offset);
            await handle.sync();
          } catch (err) {
            // A failed append keeps nothing, so the caller resumes from `offset`
            // (and the running hash, which saw the lost bytes, is dropped).
            await handle.truncate(offset).catch(() => undefined);
            throw err;
          }
          if (digester) {
            if (running.size >= MAX_RUNNING) running.delete(running.keys().next().value!);
            running.set(id, digester);
          }
          return position;
        } finally {
          appending.delete(id);
          await handle.close();
        }
      });
    },

    async stagedSize(id) {
      checkStagingId(id);
      const inProgress = appending.get(id);
      const handle = await openStaging(id, "r");
      try {
        if (inProgress !== undefined) return inProgress;
        // After a crash the file may hold bytes of an append that never
        // returned; they were written in order, so they are a prefix of what
        // the client sent. Syncing before reporting makes the size durable;
        // if they are damaged after all, the digest check at commit says so.
        await handle.sync();
        return (await handle.stat()).size;
      } finally {
        await handle.close();
      }
    },

    async commitStaging(id, expectedSha256, opts = {}): Promise<PutResult> {
      checkStagingId(id);
      const expected = expectationsOf({ expectedSha256, expectedSize: opts.expectedSize });
      return queue(id, async () => {
        const path = stagingPath(id);
        const handle = await openStaging(id, "r");
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
        const created = await publish(path, got.sha256);
        await rm(path, { force: true });
        return { ...got, created };
      });
    },

    async abortStaging(id) {
      checkStagingId(id);
      // Not queued behind an append in progress: its writes go to the
      // unlinked file and are dropped with it.
      running.delete(id);
      await rm(stagingPath(id), { force: true });
    },

    async close() {},
  };
}
