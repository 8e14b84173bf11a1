// Content digests of local files: sha256 and size, read in one streaming
// pass (never the whole file in memory).
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { cachedDigest, identityOf, rememberDigests } from "./digest-cache.js";

export interface FileDigest {
  sizeBytes: number;
  /** Lowercase hex. */
  sha256: string;
}

const READ_CHUNK = 4 << 20;

/**
 * sha256 and size of the file at `path`; `onBytes` is told how far the pass
 * is. Two reused buffers: the next read runs while the current one is hashed.
 */
export async function hashFile(path: string, signal?: AbortSignal, onBytes?: (bytesRead: number) => void): Promise<FileDigest> {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  const handle = await open(path, "r");
  try {
    // Buffers no larger than the file (one byte more, so the second read
    // sees the end): a tree of many small files allocates little.
    const chunk = Math.min(READ_CHUNK, (await handle.stat()).size + 1);
    const buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
    let turn = 0;
    let reading = handle.read(buffers[0]!, 0, chunk, 0);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      turn ^= 1;
      reading = handle.read(buffers[turn]!, 0, chunk, sizeBytes + bytesRead);
      hash.update(buffer.subarray(0, bytesRead));
      sizeBytes += bytesRead;
      onBytes?.(sizeBytes);
    }
  } finally {
    await handle.close();
  }
  return { sizeBytes, sha256: hash.digest("hex") };
}

/**
 * hashFile, or the remembered digest when the file has not changed since it
 * was last hashed (see digest-cache.ts); fresh digests are remembered.
 */
export async function digestFile(path: string, signal?: AbortSignal, onBytes?: (bytesRead: number) => void): Promise<FileDigest> {
  const cached = await cachedDigest(path);
  if (cached) {
    onBytes?.(cached.sizeBytes);
    return cached;
  }
  const before = await identityOf(path);
  const digest = await hashFile(path, signal, onBytes);
  await rememberDigests([{ path, before, digest }]);
  return digest;
}

/** sha256 of bytes in memory, lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
