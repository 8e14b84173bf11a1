// What the file-system blob store holds between calls: its paths and the
// per-process state of staged uploads. Built once by createFsBlobStore() and
// passed first to every operation (fs-writes.ts, fs-reads.ts, fs-staging.ts).
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Digester } from "./blob-store.js";
import { type KeyedQueue, keyedQueue } from "./keyed-queue.js";

export interface FsStore {
  /** root/tmp: puts in progress (<uuid>.put) and staged uploads (<id>). */
  tmpDir: string;
  /** root/sha256: the blobs, sharded by the first two hex digits. */
  blobDir: string;
  blobPath: (sha256: string) => string;
  stagingPath: (id: string) => string;
  /** Serialises the staging operations of one id within this process. */
  queue: KeyedQueue;
  /**
   * Staged size at the start of each append in progress (being written or
   * made durable; two overlap): stagedSize() reports only completed
   * appends, as on S3, where an append in progress is invisible.
   */
  appending: Map<string, number[]>;
  /**
   * Running sha256 of stagings this process has seen appended from offset 0
   * in order, so their commit needs no second pass over the bytes. Lost on
   * restart (the commit then reads the bytes back); bounded.
   */
  running: Map<string, Digester>;
  /**
   * Stagings whose bytes an append could not make durable: how many times,
   * and the offset they were dropped from. An append that wrote after them
   * meanwhile fails as written at the wrong offset.
   */
  drops: Map<string, { count: number; from: number }>;
  /** How an append makes its bytes durable (default: fsync); tests hold it to see appends overlap. */
  syncFile?: (handle: FileHandle) => Promise<void>;
}

export function fsStoreAt(root: string): FsStore {
  const tmpDir = join(root, "tmp");
  const blobDir = join(root, "sha256");
  return {
    tmpDir,
    blobDir,
    blobPath: (sha256) => join(blobDir, sha256.slice(0, 2), sha256),
    stagingPath: (id) => join(tmpDir, id),
    queue: keyedQueue(),
    appending: new Map(),
    running: new Map(),
    drops: new Map(),
  };
}

/** An append of `id` from `offset` is in progress. */
export function appendStarted(ctx: FsStore, id: string, offset: number): void {
  const starts = ctx.appending.get(id);
  if (starts) starts.push(offset);
  else ctx.appending.set(id, [offset]);
}

/** The append of `id` from `offset` is over (returned or failed). */
export function appendEnded(ctx: FsStore, id: string, offset: number): void {
  const starts = ctx.appending.get(id);
  const i = starts?.indexOf(offset) ?? -1;
  if (i >= 0) starts!.splice(i, 1);
  if (starts?.length === 0) ctx.appending.delete(id);
}

/** Where the earliest append of `id` in progress started: all that stagedSize() may report meanwhile. */
export function appendingFrom(ctx: FsStore, id: string): number | undefined {
  const starts = ctx.appending.get(id);
  return starts ? Math.min(...starts) : undefined;
}
