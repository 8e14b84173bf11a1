// Content digests of local files: sha256 and size, read in one streaming
// pass (never the whole file in memory).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface FileDigest {
  sizeBytes: number;
  /** Lowercase hex. */
  sha256: string;
}

const READ_CHUNK = 1 << 20;

/** sha256 and size of the file at `path`; `onBytes` is told how far the pass is. */
export async function hashFile(path: string, signal?: AbortSignal, onBytes?: (bytesRead: number) => void): Promise<FileDigest> {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK, ...(signal ? { signal } : {}) })) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
    onBytes?.(sizeBytes);
  }
  return { sizeBytes, sha256: hash.digest("hex") };
}

/** sha256 of bytes in memory, lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
