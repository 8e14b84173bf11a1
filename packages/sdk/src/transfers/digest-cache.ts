// Remembered digests of local files, so uploading a file again (the same
// checkpoint pushed to a second version, a retried job) needs no second pass
// over its bytes. Like git's index: an entry is trusted only while the
// file's device, inode, size, mtime and ctime are unchanged (any write moves
// ctime, which users cannot set back). A wrong entry could only make the
// server refuse the upload: it checks every byte it receives against the
// digest, and a workspace holds content only after it was received.
//
// Kept in $MODELREG_CACHE_DIR, else $XDG_CACHE_HOME/modelreg, else
// ~/.cache/modelreg, as a cache directory (digests/, see cache-file.ts): one
// small file per file hashed, keyed by device and inode, so that processes
// (and an upload's concurrent hashes) that remember digests at once never
// drop each other's, and a lookup reads one small file. At most MAX_ENTRIES,
// the least recently used going first. An entry that cannot be read or is
// malformed is a miss (the file is hashed again), and one that cannot be
// written costs a hash next time: the cache never fails an upload.
// MODELREG_DIGEST_CACHE=off turns it off.
import { rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { cacheFilePath, pruneCacheEntries, readCacheEntry, touchCacheEntry, writeCacheEntry } from "./cache-file.js";
import type { FileDigest } from "./hash.js";

interface Entry {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  sha256: string;
}

const MAX_ENTRIES = 10_000;
/** A process prunes on its first write and then every PRUNE_EVERY writes: the directory is bounded by MAX_ENTRIES plus this per process writing at once. */
const PRUNE_EVERY = 256;
let writesUntilPrune = 0;

function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ((env.MODELREG_DIGEST_CACHE ?? "").toLowerCase() === "off") return undefined;
  return cacheFilePath("digests", env);
}

async function identity(path: string): Promise<{ key: string; entry: Omit<Entry, "sha256"> }> {
  const s = await stat(path, { bigint: true });
  return { key: `${s.dev}:${s.ino}`, entry: { size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) } };
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The digest of `path` from the cache, when the file has not changed since it was stored. */
export async function cachedDigest(path: string): Promise<FileDigest | undefined> {
  const dir = cacheDir();
  if (!dir) return undefined;
  const { key, entry } = await identity(path);
  const hit = await readCacheEntry<Partial<Entry>>(dir, key);
  if (!hit || typeof hit.sha256 !== "string" || !SHA256.test(hit.sha256)) return undefined;
  if (hit.size !== entry.size || hit.mtimeNs !== entry.mtimeNs || hit.ctimeNs !== entry.ctimeNs) return undefined;
  await touchCacheEntry(dir, key);
  return { sizeBytes: Number(hit.size), sha256: hit.sha256 };
}

/**
 * Remembers digests just computed. `before` is each file's identity taken
 * before it was read: a file that changed while it was hashed is not kept.
 */
export async function rememberDigests(items: { path: string; before: string; digest: FileDigest }[]): Promise<void> {
  const dir = cacheDir();
  if (!dir || items.length === 0) return;
  try {
    for (const { path, before, digest } of items) {
      const now = await identity(path);
      if (JSON.stringify(now) !== before || now.entry.size !== String(digest.sizeBytes)) continue;
      await writeCacheEntry(dir, now.key, { ...now.entry, sha256: digest.sha256 } satisfies Entry);
    }
    writesUntilPrune -= items.length;
    if (writesUntilPrune <= 0) {
      writesUntilPrune = PRUNE_EVERY;
      await pruneCacheEntries(dir, MAX_ENTRIES);
      // The single JSON file of earlier versions, replaced by this directory.
      await rm(join(dirname(dir), "digests.json"), { force: true });
    }
  } catch {
    // A cache that cannot be written only costs a re-hash next time.
  }
}

/** A file's identity as rememberDigests wants it, taken before hashing. */
export async function identityOf(path: string): Promise<string> {
  return JSON.stringify(await identity(path));
}
