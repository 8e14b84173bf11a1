// Writing a download so that nothing half-written is ever visible: bytes go
// to a temp file beside the target (same directory, so the rename is
// atomic), are fsynced, and the temp file is renamed over the target only
// when complete and verified. Small chunks are gathered into larger writes.
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const FLUSH_BYTES = 1 << 20;
/** Written bytes after which a background flush to disk starts, so the final fsync has little left to do. */
const SYNC_EVERY = 64 << 20;

export interface TempFile {
  /** The temp file's path. */
  readonly path: string;
  /** Bytes handed to write() so far. */
  readonly written: number;
  /** Appends bytes (buffered; flushed at 1 MiB and by flush/commit). */
  write(chunk: Uint8Array): Promise<void>;
  /** Writes out buffered bytes. */
  flush(): Promise<void>;
  /** Flushes, fsyncs, closes and renames over the target. */
  commit(): Promise<void>;
  /** Closes and removes the temp file (safe to call after commit or twice). */
  discard(): Promise<void>;
}

/** `.<name>.<random>.part` in the target's directory (created if missing). */
export async function createTempFile(target: string): Promise<TempFile> {
  await mkdir(dirname(target), { recursive: true });
  const path = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.part`);
  const fh: FileHandle = await open(path, "wx", 0o644);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let written = 0;
  let closed = false;
  // A datasync running beside the writes (the disk works while bytes arrive);
  // its failure is reported by commit().
  let syncing: Promise<unknown> | undefined;
  let sinceSync = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunks = pending;
    pending = [];
    pendingBytes = 0;
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    for (let off = 0; off < data.length; ) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    sinceSync += data.length;
    if (sinceSync >= SYNC_EVERY && !syncing) {
      sinceSync = 0;
      const started = fh.datasync().then(
        () => undefined,
        (err: unknown) => err,
      );
      syncing = started;
      void started.then((err) => {
        if (syncing === started && !err) syncing = undefined;
      });
    }
  };
  return {
    path,
    get written() {
      return written;
    },
    async write(chunk) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      written += chunk.length;
      if (pendingBytes >= FLUSH_BYTES) await flush();
    },
    flush,
    async commit() {
      await flush();
      const failed = await syncing;
      if (failed) throw failed;
      await fh.sync();
      closed = true;
      await fh.close();
      await rename(path, target);
    },
    async discard() {
      if (!closed) {
        closed = true;
        await syncing;
        await fh.close().catch(() => {});
      }
      await rm(path, { force: true });
    },
  };
}
