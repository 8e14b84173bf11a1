// Writing a download so that nothing half-written is ever visible: bytes go
// to a temp file beside the target (same directory, so the rename is
// atomic), are fsynced, and the temp file is renamed over the target only
// when complete and verified. Chunks are gathered (not copied) into writev
// calls of about 1 MiB that run in the background while more bytes arrive.
// A partial file (openPartialFile) is the same, under a fixed name that a
// later run finds again, and says after each background fsync how many of
// its bytes are on disk for sure.
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, truncate, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Gathered bytes that start a write. */
const FLUSH_BYTES = 1 << 20;
/** Gathered chunks that start a write whatever their size (well under IOV_MAX). */
const FLUSH_CHUNKS = 256;
/** Gathered bytes beyond which write() asks the caller to wait for the disk. */
const HIGH_WATER_BYTES = 8 << 20;
/** Written bytes after which a background flush to disk starts, so the final fsync has little left to do. */
const SYNC_EVERY = 64 << 20;
/** A partial file is also flushed to disk when this long has passed with at least SYNC_MIN_BYTES written since. */
const SYNC_EVERY_MS = 1_000;
const SYNC_MIN_BYTES = 256 << 10;

export interface TempFile {
  /** The temp file's path. */
  readonly path: string;
  /** The file's length once what was handed is written: the bytes it started with (a partial file's) and those handed to write(). */
  readonly written: number;
  /**
   * Appends bytes. The chunk is kept (not copied) until written: the caller
   * must not change it afterwards. Writes run in the background; a promise
   * is returned only when the caller should wait before handing more (many
   * bytes not on disk yet). A failed write is thrown by a later call.
   */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Writes out everything handed so far. */
  flush(): Promise<void>;
  /** Flushes, fsyncs, closes and renames over the target. */
  commit(): Promise<void>;
  /** Closes and removes the temp file (safe to call after commit or twice). */
  discard(): Promise<void>;
}

export interface PartialFile extends TempFile {
  /** Flushes, fsyncs and closes, keeping the file for a later run; resolves with its length (all on disk). */
  keep(): Promise<number>;
}

/** `.<name>.<random>.part` in the target's directory (created if missing). */
export async function createTempFile(target: string): Promise<TempFile> {
  await mkdir(dirname(target), { recursive: true });
  const path = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.part`);
  return fileWriter(path, await open(path, "wx", 0o644), 0, target, undefined);
}

/** Where the partial download of `target` is kept between runs. */
export function partialPath(target: string): string {
  return `${target}.modelreg-partial`;
}

/**
 * The partial download of `target` (partialPath), its first `keepBytes`
 * kept (anything after them is cut off: it was not known to be on disk)
 * and the rest written from there. `onDurable(n)` is told, after each
 * background fsync, that the first n bytes are on disk; besides every
 * 64 MiB, one runs each second that has moved 256 KiB or more.
 */
export async function openPartialFile(target: string, keepBytes: number, onDurable: (bytes: number) => void): Promise<PartialFile> {
  await mkdir(dirname(target), { recursive: true });
  const path = partialPath(target);
  if (keepBytes > 0) await truncate(path, keepBytes);
  const fh = await open(path, keepBytes > 0 ? "r+" : "w", 0o644);
  return fileWriter(path, fh, keepBytes, target, onDurable);
}

function fileWriter(path: string, fh: FileHandle, startBytes: number, target: string, onDurable: ((bytes: number) => void) | undefined): PartialFile {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let written = startBytes;
  /** Bytes on their way to the file (the offset of the next write). */
  let offset = startBytes;
  let closed = false;
  // The background writes: one loop at a time, in order. Its failure is
  // kept and thrown by the next write, flush or commit.
  let writing: Promise<void> | undefined;
  let failure: unknown;
  // A datasync running beside the writes (the disk works while bytes arrive);
  // its failure is reported by commit().
  let syncing: Promise<unknown> | undefined;
  let sinceSync = 0;
  let syncedAt = performance.now();

  const writeAll = async (chunks: Uint8Array[], bytes: number) => {
    let at = offset;
    offset += bytes;
    let rest = chunks;
    for (let left = bytes; left > 0; ) {
      const { bytesWritten } = await (rest.length === 1 ? fh.write(rest[0]!, 0, rest[0]!.length, at) : fh.writev(rest, at));
      at += bytesWritten;
      left -= bytesWritten;
      if (left > 0) rest = skip(rest, bytesWritten);
    }
    sinceSync += bytes;
    const due = sinceSync >= SYNC_EVERY || (onDurable !== undefined && sinceSync >= SYNC_MIN_BYTES && performance.now() - syncedAt >= SYNC_EVERY_MS);
    if (due && !syncing) {
      sinceSync = 0;
      syncedAt = performance.now();
      // Every byte written so far is on disk once this datasync is done.
      const covered = at;
      const started = fh.datasync().then(
        () => undefined,
        (err: unknown) => err,
      );
      syncing = started;
      void started.then((err) => {
        if (syncing === started && !err) syncing = undefined;
        if (!err && !closed) onDurable?.(covered);
      });
    }
  };
  /** Writes gathered bytes while there are enough of them (all of them when `all`). */
  const drain = async (all: boolean) => {
    while (pendingBytes > 0 && (all || pendingBytes >= FLUSH_BYTES || pending.length >= FLUSH_CHUNKS)) {
      const chunks = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      await writeAll(chunks, bytes);
    }
  };
  const start = (all: boolean): Promise<void> => {
    const run = drain(all).then(
      () => {
        if (writing === run) writing = undefined;
      },
      (err: unknown) => {
        failure ??= err;
        if (writing === run) writing = undefined;
      },
    );
    writing = run;
    return run;
  };
  const check = () => {
    if (failure) throw failure;
  };
  const flush = async () => {
    while (writing) await writing;
    check();
    await start(true);
    check();
  };
  return {
    path,
    get written() {
      return written;
    },
    write(chunk) {
      check();
      pending.push(chunk);
      pendingBytes += chunk.length;
      written += chunk.length;
      if (pendingBytes < FLUSH_BYTES && pending.length < FLUSH_CHUNKS) return undefined;
      if (!writing) start(false);
      else if (pendingBytes >= HIGH_WATER_BYTES) return waitFor();
      return undefined;
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
    async keep() {
      try {
        await flush();
        const failed = await syncing;
        if (failed) throw failed;
        await fh.datasync();
        return written;
      } finally {
        closed = true;
        await fh.close().catch(() => {});
      }
    },
    async discard() {
      if (!closed) {
        closed = true;
        pending = [];
        pendingBytes = 0;
        while (writing) await writing;
        await syncing;
        await fh.close().catch(() => {});
      }
      await rm(path, { force: true });
    },
  };

  /** Resolves once the background writes have caught up (below HIGH_WATER_BYTES gathered). */
  async function waitFor(): Promise<void> {
    for (;;) {
      while (writing) await writing;
      check();
      if (pendingBytes < HIGH_WATER_BYTES) return;
      await start(false);
    }
  }
}

/** `chunks` without their first `n` bytes. */
function skip(chunks: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length;
  const rest = chunks.slice(i);
  if (n > 0 && rest.length) rest[0] = rest[0]!.subarray(n);
  return rest;
}
