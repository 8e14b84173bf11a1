// The files modelreg's clients keep between runs (the SDK's digest cache,
// the CLI's pending pushes), under $MODELREG_CACHE_DIR, else
// $XDG_CACHE_HOME/modelreg, else ~/.cache/modelreg (directories 0700, files
// 0600), as cache directories: one small file per entry, named by a hash of
// its key, written by temp file and rename. Writers of different keys never
// touch the same file, so no lock is needed and nothing is lost when
// processes (or concurrent calls of one) write at once; a reader sees an
// entry whole or not at all. pruneCacheEntries keeps the count bounded by
// removing the least recently written (or touched) entries. (One JSON file
// replaced whole lost entries: each writer wrote what it had read plus its
// own change, so the last dropped the others'.)
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** The path of cache directory (or file) `name` in the client's cache directory. */
export function cacheFilePath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.MODELREG_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "modelreg") : join(env.HOME || homedir(), ".cache", "modelreg"));
  return join(dir, name);
}

/** Writes `data` to `file` by a temp file of its own beside it and a rename (the temp file is removed on failure). */
async function replaceFile(file: string, data: string): Promise<void> {
  // Unique per write, not per process and millisecond: two writes of one
  // process at once must not share (and interleave in) one temp file.
  const tmp = join(dirname(file), `.${randomBytes(8).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o600, flag: "wx" });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The file of entry `key` in cache directory `dir`. */
export function cacheEntryPath(dir: string, key: string): string {
  return join(dir, `${createHash("sha256").update(key).digest("hex").slice(0, 40)}.json`);
}

/** Entry `key` of cache directory `dir`; undefined when it is missing, unreadable or not `key`'s. */
export async function readCacheEntry<E>(dir: string, key: string): Promise<E | undefined> {
  try {
    const parsed = JSON.parse(await readFile(cacheEntryPath(dir, key), "utf8")) as { key?: unknown; value?: E };
    return parsed.key === key ? parsed.value : undefined;
  } catch {
    return undefined;
  }
}

/** Writes entry `key` of cache directory `dir` (creating it, 0700), replacing the one there. */
export async function writeCacheEntry(dir: string, key: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await replaceFile(cacheEntryPath(dir, key), JSON.stringify({ key, value }));
}

/** Marks entry `key` as just used, so pruning takes it last; a failure is ignored. */
export async function touchCacheEntry(dir: string, key: string): Promise<void> {
  const now = new Date();
  await utimes(cacheEntryPath(dir, key), now, now).catch(() => {});
}

/** Temp files older than this are left from a writer that died; younger ones may be being written. */
const STALE_TEMP_MS = 3600_000;

/**
 * Bounds cache directory `dir`: past `max` entries, removes the least
 * recently written or touched down to `keep` (so that the next prune has
 * nothing to do for a while), and temp files left by writers that died.
 * Resolves with the number of entries removed. Concurrent prunes and writes
 * are safe: each removal is of one file, and a fresh entry is the newest.
 */
export async function pruneCacheEntries(dir: string, max: number, keep = Math.floor(max * 0.9)): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const now = Date.now();
  const mtimes = async (list: string[]) =>
    (await Promise.all(list.map((name) => stat(join(dir, name)).then((s) => ({ name, mtimeMs: s.mtimeMs }), () => undefined)))).filter((e) => e !== undefined);
  for (const { name, mtimeMs } of await mtimes(names.filter((n) => n.endsWith(".tmp")))) {
    if (now - mtimeMs > STALE_TEMP_MS) await rm(join(dir, name), { force: true });
  }
  const entries = names.filter((n) => n.endsWith(".json"));
  if (entries.length <= max) return 0;
  const oldest = (await mtimes(entries)).sort((a, b) => a.mtimeMs - b.mtimeMs).slice(0, Math.max(0, entries.length - keep));
  for (const { name } of oldest) await rm(join(dir, name), { force: true });
  return oldest.length;
}
