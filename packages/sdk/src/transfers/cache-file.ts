// The files modelreg's clients keep between runs (the digest cache, the
// CLI's pending pushes): JSON of { version: 1, entries } under
// $MODELREG_CACHE_DIR, else $XDG_CACHE_HOME/modelreg, else ~/.cache/modelreg,
// mode 0600, written by temp file and rename, so concurrent writers lose
// entries but never corrupt the file.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** The path of the cache file `name` in the client's cache directory. */
export function cacheFilePath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.MODELREG_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "modelreg") : join(env.HOME || homedir(), ".cache", "modelreg"));
  return join(dir, name);
}

/** The entries of a cache file; none when it is missing or unreadable. */
export async function readCacheEntries<E>(file: string): Promise<Record<string, E>> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as { entries?: Record<string, E> };
    return parsed.entries ?? {};
  } catch {
    return {};
  }
}

/** Replaces a cache file's entries (creating its directory, 0700). */
export async function writeCacheEntries(file: string, entries: Record<string, unknown>): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify({ version: 1, entries }), { mode: 0o600 });
  await rename(tmp, file);
}
