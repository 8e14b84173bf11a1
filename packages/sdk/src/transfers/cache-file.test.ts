import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cacheEntryPath, cacheFilePath, pruneCacheEntries, readCacheEntry, writeCacheEntry } from "./cache-file.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelreg-cache-file-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("lives in MODELREG_CACHE_DIR, else XDG_CACHE_HOME/modelreg, else ~/.cache/modelreg", () => {
  expect(cacheFilePath("x", { MODELREG_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe(join("/c", "x"));
  expect(cacheFilePath("x", { XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe(join("/x", "modelreg", "x"));
  expect(cacheFilePath("x", { HOME: "/h" })).toBe(join("/h", ".cache", "modelreg", "x"));
});

it("keeps one file per entry, read back only under its own key", async () => {
  const entries = join(dir, "entries");
  await Promise.all(Array.from({ length: 50 }, (_, i) => writeCacheEntry(entries, `key ${i}`, { i })));
  for (let i = 0; i < 50; i++) expect(await readCacheEntry(entries, `key ${i}`)).toEqual({ i });
  expect(await readCacheEntry(entries, "absent")).toBeUndefined();
  // A file moved under another key's name is not that key's entry.
  await writeFile(cacheEntryPath(entries, "moved"), await readFile(cacheEntryPath(entries, "key 1"), "utf8"));
  expect(await readCacheEntry(entries, "moved")).toBeUndefined();
  expect((await readdir(entries)).filter((n) => !n.endsWith(".json"))).toEqual([]);
});

it("prunes past the bound down to the most recently used entries, and stale temp files", async () => {
  const entries = join(dir, "bounded");
  const base = Date.now() / 1000 - 10_000;
  for (let i = 0; i < 30; i++) {
    await writeCacheEntry(entries, `k${i}`, i);
    // Written (or touched) in order k0, k1, ...: k0 is the least recent.
    await utimes(cacheEntryPath(entries, `k${i}`), base + i, base + i);
  }
  const stale = join(entries, ".dead-writer.tmp");
  const fresh = join(entries, ".live-writer.tmp");
  await writeFile(stale, "");
  await utimes(stale, base, base);
  await writeFile(fresh, "");

  expect(await pruneCacheEntries(entries, 30)).toBe(0);
  expect((await readdir(entries)).filter((n) => n.endsWith(".tmp"))).toEqual([".live-writer.tmp"]);
  expect(await pruneCacheEntries(entries, 25, 20)).toBe(10);
  for (let i = 0; i < 30; i++) expect(await readCacheEntry(entries, `k${i}`)).toBe(i < 10 ? undefined : i);
  expect(await pruneCacheEntries(join(dir, "missing"), 1)).toBe(0);
});
