// Reads of the file-system blob store: a blob's size, its bytes (or a range
// of them), and the listing of every blob for garbage collection.
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { checkSha256, errnoOf, sliceOf } from "./blob-store.js";
import type { FsStore } from "./fs-context.js";
import { BlobReadStream } from "./fs-read-stream.js";
import { type BlobInfo, type ByteRange, isSha256 } from "../domain/ports/blob-store.js";
import { BlobNotFoundError } from "../domain/ports/blob-store-errors.js";

export async function hasBlob(ctx: FsStore, sha256: string): Promise<{ size: number } | undefined> {
  try {
    const { size } = await stat(ctx.blobPath(checkSha256(sha256)));
    return { size };
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}

export async function getBlob(ctx: FsStore, sha256: string, range?: ByteRange): Promise<Readable> {
  let handle: FileHandle;
  try {
    handle = await open(ctx.blobPath(checkSha256(sha256)), "r");
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
  // 1 MiB reads (the default 64 KiB costs a thread-pool round trip per
  // 64 KiB) into buffers that writers hand back (./read-buffers.ts).
  return new BlobReadStream(handle, slice.start, slice.end);
}

export async function* listBlobs(ctx: FsStore): AsyncGenerator<BlobInfo> {
  const { blobDir } = ctx;
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
}
