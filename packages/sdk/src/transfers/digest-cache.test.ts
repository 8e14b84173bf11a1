import { randomBytes } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { digestFile, sha256Hex } from "./hash.js";

let dir = "";
const saved = process.env.MODELREG_CACHE_DIR;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelreg-digest-cache-"));
  process.env.MODELREG_CACHE_DIR = join(dir, "cache");
});
afterAll(async () => {
  if (saved === undefined) delete process.env.MODELREG_CACHE_DIR;
  else process.env.MODELREG_CACHE_DIR = saved;
  await rm(dir, { recursive: true, force: true });
});

const cache = async () => JSON.parse(await readFile(join(dir, "cache", "digests.json"), "utf8")) as { entries: Record<string, { sha256: string }> };

it("remembers a file's digest and answers from it while the file is unchanged", async () => {
  const path = join(dir, "weights.bin");
  const data = randomBytes(3 << 20);
  await writeFile(path, data);
  expect(await digestFile(path)).toEqual({ sizeBytes: data.length, sha256: sha256Hex(data) });
  const [entry] = Object.values((await cache()).entries);
  expect(entry!.sha256).toBe(sha256Hex(data));
  expect((await stat(join(dir, "cache", "digests.json"))).mode & 0o777).toBe(0o600);
  // Answered from the cache, not by reading: a planted digest comes back.
  const planted = await cache();
  for (const e of Object.values(planted.entries)) e.sha256 = "f".repeat(64);
  await writeFile(join(dir, "cache", "digests.json"), JSON.stringify(planted));
  expect((await digestFile(path)).sha256).toBe("f".repeat(64));
});

it("hashes again once the file changed, and not at all with MODELREG_DIGEST_CACHE=off", async () => {
  const path = join(dir, "model.onnx");
  await writeFile(path, "v1");
  await digestFile(path);
  await appendFile(path, " and more");
  expect((await digestFile(path)).sha256).toBe(sha256Hex("v1 and more"));
  process.env.MODELREG_DIGEST_CACHE = "off";
  try {
    const other = join(dir, "off.bin");
    await writeFile(other, "x");
    const before = Object.keys((await cache()).entries).length;
    expect((await digestFile(other)).sha256).toBe(sha256Hex("x"));
    expect(Object.keys((await cache()).entries).length).toBe(before);
  } finally {
    delete process.env.MODELREG_DIGEST_CACHE;
  }
});
