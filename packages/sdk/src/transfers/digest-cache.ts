// Remembered digests of local files, so uploading a file again (the same
// checkpoint pushed to a second version, a retried job) needs no second pass
// over its bytes. Like git's index: an entry is trusted only while the
// file's device, inode, size, mtime and ctime are unchanged (any write moves
// ctime, which users cannot set back). A wrong entry could only make the
// server refuse the upload: it checks every byte it receives against the
// digest, and a workspace holds content only after it was received.
//
// Kept in $MODELREG_CACHE_DIR, else $XDG_CACHE_HOME/modelreg, else
// ~/.cache/modelreg (digests.json, mode 0600); MODELREG_DIGEST_CACHE=off
// turns it off. Written by temp file and rename; concurrent writers lose
// entries, never corrupt the file.
import { stat } from "node:fs/promises";
import { cacheFilePath, readCacheEntries, writeCacheEntries } from "./cache-file.js";
import type { FileDigest } from "./hash.js";

interface Entry {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  sha256: string;
}

const MAX_ENTRIES = 10_000;

function cacheFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ((env.MODELREG_DIGEST_CACHE ?? "").toLowerCase() === "off") return undefined;
  return cacheFilePath("digests.json", env);
}

async function identity(path: string): Promise<{ key: string; entry: Omit<Entry, "sha256"> }> {
  const s = await stat(path, { bigint: true });
  return { key: `${s.dev}:${s.ino}`, entry: { size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) } };
}

/** The digest of `path` from the cache, when the file has not changed since it was stored. */
export async function cachedDigest(path: string): Promise<FileDigest | undefined> {
  const file = cacheFile();
  if (!file) return undefined;
  const [{ key, entry }, entries] = await Promise.all([identity(path), readCacheEntries<Entry>(file)]);
  const hit = entries[key];
  if (!hit || hit.size !== entry.size || hit.mtimeNs !== entry.mtimeNs || hit.ctimeNs !== entry.ctimeNs) return undefined;
  return { sizeBytes: Number(hit.size), sha256: hit.sha256 };
}

/**
 * Remembers digests just computed. `before` is each file's identity taken
 * before it was read: a file that changed while it was hashed is not kept.
 */
export async function rememberDigests(items: { path: string; before: string; digest: FileDigest }[]): Promise<void> {
  const file = cacheFile();
  if (!file || items.length === 0) return;
  try {
    const entries = await readCacheEntries<Entry>(file);
    for (const { path, before, digest } of items) {
      const now = await identity(path);
      if (JSON.stringify(now) !== before || now.entry.size !== String(digest.sizeBytes)) continue;
      delete entries[now.key]; // re-insert last: the oldest entries go first
      entries[now.key] = { ...now.entry, sha256: digest.sha256 };
    }
    const keys = Object.keys(entries);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete entries[k];
    await writeCacheEntries(file, entries);
  } catch {
    // A cache that cannot be written only costs a re-hash next time.
  }
}

/** A file's identity as rememberDigests wants it, taken before hashing. */
export async function identityOf(path: string): Promise<string> {
  return JSON.stringify(await identity(path));
}
