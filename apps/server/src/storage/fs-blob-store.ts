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
// store falls back to rename (see publish() in fs-durable-write.ts).
//
// Where the rest lives: fs-context.ts (paths and per-process state),
// fs-durable-write.ts (fsyncs, batched writes, publish), fs-writes.ts (put,
// delete, sweep), fs-reads.ts (has, get, list), fs-read-stream.ts (a blob's
// bytes as a stream), read-buffers.ts (the reads' reusable buffers, handed
// back by the writes), fs-staging.ts (staged uploads).
import { type FsStore, fsStoreAt } from "./fs-context.js";
import { getBlob, hasBlob, listBlobs } from "./fs-reads.js";
import { abortStaging, append, commitStaging, createStaging, stagedSize } from "./fs-staging.js";
import { deleteBlob, putBlob, sweepAbandoned } from "./fs-writes.js";
import type { BlobStore } from "../domain/ports/blob-store.js";

export interface FsBlobStoreOptions {
  /** Directory of the store, e.g. DATA_DIR/blobs; created when missing. */
  root: string;
  /** How an append makes its bytes durable (default: fsync); tests hold it or make it fail. */
  syncFile?: FsStore["syncFile"];
}

export function createFsBlobStore({ root, syncFile }: FsBlobStoreOptions): BlobStore {
  const ctx: FsStore = { ...fsStoreAt(root), syncFile };
  return {
    kind: "fs",
    overlappingAppends: true,
    put: (body, opts) => putBlob(ctx, body, opts),
    has: (sha256) => hasBlob(ctx, sha256),
    get: (sha256, range) => getBlob(ctx, sha256, range),
    delete: (sha256) => deleteBlob(ctx, sha256),
    list: () => listBlobs(ctx),
    sweepAbandoned: (olderThanMs) => sweepAbandoned(ctx, olderThanMs),
    createStaging: (id) => createStaging(ctx, id),
    append: (id, offset, body, opts) => append(ctx, id, offset, body, opts),
    stagedSize: (id) => stagedSize(ctx, id),
    commitStaging: (id, expectedSha256, opts) => commitStaging(ctx, id, expectedSha256, opts),
    abortStaging: (id) => abortStaging(ctx, id),
    async close() {},
  };
}
