// What the file-system blob store holds between calls: its paths and the
// per-process state of staged uploads. Built once by createFsBlobStore() and
// passed first to every operation (fs-writes.ts, fs-reads.ts, fs-staging.ts).
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
   * Staged size at the start of each append in progress: stagedSize()
   * reports only completed appends, as on S3, where an append in progress
   * is invisible.
   */
  appending: Map<string, number>;
  /**
   * Running sha256 of stagings this process has seen appended from offset 0
   * in order, so their commit needs no second pass over the bytes. Lost on
   * restart (the commit then reads the bytes back); bounded.
   */
  running: Map<string, Digester>;
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
  };
}
