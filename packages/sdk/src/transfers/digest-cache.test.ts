import { randomBytes } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { cacheEntryPath } from "./cache-file.js";
import { cachedDigest } from "./digest-cache.js";
import { digestFile, sha256Hex } from "./hash.js";

let dir = "";
const saved = process.env.MODELREG_CACHE_DIR;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelreg-digest-cache-"));
});
beforeEach(async () => {
  await rm(join(dir, "cache"), { recursive: true, force: true });
  process.env.MODELREG_CACHE_DIR = join(dir, "cache");
});
afterAll(async () => {
  if (saved === undefined) delete process.env.MODELREG_CACHE_DIR;
  else process.env.MODELREG_CACHE_DIR = saved;
  await rm(dir, { recursive: true, force: true });
});

/** The entry file of the file at `path` (keyed by its device and inode). */
const entryFile = async (path: string) => {
  const s = await stat(path, { bigint: true });
  return cacheEntryPath(join(dir, "cache", "digests"), `${s.dev}:${s.ino}`);
};
const entries = async () => (await readdir(join(dir, "cache", "digests")).catch(() => [])).filter((n) => n.endsWith(".json"));

it("remembers a file's digest and answers from it while the file is unchanged", async () => {
  const path = join(dir, "weights.bin");
  const data = randomBytes(3 << 20);
  await writeFile(path, data);
  expect(await digestFile(path)).toEqual({ sizeBytes: data.length, sha256: sha256Hex(data) });
  const stored = JSON.parse(await readFile(await entryFile(path), "utf8")) as { value: { sha256: string } };
  expect(stored.value.sha256).toBe(sha256Hex(data));
  expect((await stat(await entryFile(path))).mode & 0o777).toBe(0o600);
  expect((await stat(join(dir, "cache", "digests"))).mode & 0o777).toBe(0o700);
  // Answered from the cache, not by reading: a planted digest comes back.
  stored.value.sha256 = "f".repeat(64);
  await writeFile(await entryFile(path), JSON.stringify(stored));
  expect((await digestFile(path)).sha256).toBe("f".repeat(64));
});

it("hashes again once the file changed, and not at all with MODELREG_DIGEST_CACHE=off", async () => {
  const path = join(dir, "model.onnx");
  await writeFile(path, "v1");
  await digestFile(path);
  await appendFile(path, " and more");
  expect(await cachedDigest(path)).toBeUndefined();
  expect((await digestFile(path)).sha256).toBe(sha256Hex("v1 and more"));
  expect((await cachedDigest(path))?.sha256).toBe(sha256Hex("v1 and more"));
  process.env.MODELREG_DIGEST_CACHE = "off";
  try {
    const other = join(dir, "off.bin");
    await writeFile(other, "x");
    const before = (await entries()).length;
    expect((await digestFile(other)).sha256).toBe(sha256Hex("x"));
    expect((await entries()).length).toBe(before);
  } finally {
    delete process.env.MODELREG_DIGEST_CACHE;
  }
});

it("keeps every digest of files hashed at once by one process (as an upload of a directory does)", async () => {
  const paths = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const path = join(dir, `many-${i}.bin`);
      await writeFile(path, `file ${i}`);
      return path;
    }),
  );
  await Promise.all(paths.map((p) => digestFile(p)));
  for (const [i, p] of paths.entries()) expect((await cachedDigest(p))?.sha256).toBe(sha256Hex(`file ${i}`));
  expect(await entries()).toHaveLength(40);
  expect((await readdir(join(dir, "cache", "digests"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
});

it("treats a damaged or foreign entry as a miss and hashes again, never answering from it", async () => {
  const path = join(dir, "damaged.bin");
  await writeFile(path, "the bytes");
  await digestFile(path);
  const file = await entryFile(path);
  const good = JSON.parse(await readFile(file, "utf8")) as { key: string; value: Record<string, string> };
  const damaged = [
    "",
    '{"key":',
    "null",
    JSON.stringify({ ...good, key: "1:2" }), // another file's entry under this name
    JSON.stringify({ ...good, value: { ...good.value, sha256: "not hex" } }),
    JSON.stringify({ ...good, value: { ...good.value, sha256: 42 } }),
    JSON.stringify({ ...good, value: { ...good.value, size: "999" } }),
    JSON.stringify({ ...good, value: { ...good.value, ctimeNs: "1" } }),
    JSON.stringify({ key: good.key }),
  ];
  for (const text of damaged) {
    await writeFile(file, text);
    expect(await cachedDigest(path), text).toBeUndefined();
    expect((await digestFile(path)).sha256).toBe(sha256Hex("the bytes"));
    // Hashed again and stored whole again.
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual(good);
  }
});

it("never fails a hash when the cache cannot be read or written", async () => {
  // The cache directory's place is taken by a file: nothing can be stored.
  await writeFile(join(dir, "not-a-dir"), "x");
  process.env.MODELREG_CACHE_DIR = join(dir, "not-a-dir");
  const path = join(dir, "uncached.bin");
  await writeFile(path, "data");
  expect((await digestFile(path)).sha256).toBe(sha256Hex("data"));
  expect((await digestFile(path)).sha256).toBe(sha256Hex("data"));
  expect(await cachedDigest(path)).toBeUndefined();
});

it("removes the single digests.json of earlier versions", async () => {
  await mkdir(join(dir, "cache"), { recursive: true });
  await writeFile(join(dir, "cache", "digests.json"), JSON.stringify({ version: 1, entries: {} }));
  const path = join(dir, "legacy.bin");
  await writeFile(path, "y");
  // Done on a process's first write (an earlier test's here): a fresh
  // instance of the module is a fresh process as far as that goes.
  vi.resetModules();
  const { rememberDigests, identityOf } = await import("./digest-cache.js");
  await rememberDigests([{ path, before: await identityOf(path), digest: { sizeBytes: 1, sha256: sha256Hex("y") } }]);
  await expect(stat(join(dir, "cache", "digests.json"))).rejects.toMatchObject({ code: "ENOENT" });
  expect(await entries()).toHaveLength(1);
});
