// The file `bench transfer` moves: random bytes (incompressible, and no two
// runs alike), written in chunks so the bench never holds it in memory.
import { createHash, randomFillSync } from "node:crypto";
import { open } from "node:fs/promises";

const CHUNK = 16 << 20;

/** Writes `sizeBytes` random bytes to `path`. */
export async function createRandomFile(path: string, sizeBytes: number): Promise<void> {
  const fh = await open(path, "w");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; pos < sizeBytes; ) {
      const n = Math.min(CHUNK, sizeBytes - pos);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n, pos);
      pos += n;
    }
    // Written back now, not by the kernel's flusher during a case (dirty pages go after 30 s).
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Gives the file new content of the same size (its first 32 bytes replaced
 * by random ones), so a content-addressed store cannot skip it as already
 * held; the rest stays in the page cache. Returns the new sha256 (hex).
 */
export async function freshContent(path: string): Promise<string> {
  const fh = await open(path, "r+");
  try {
    await fh.write(randomFillSync(Buffer.alloc(32)), 0, 32, 0);
  } finally {
    await fh.close();
  }
  return sha256File(path);
}

/** sha256 (hex) of a file, read in 16 MiB chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}
