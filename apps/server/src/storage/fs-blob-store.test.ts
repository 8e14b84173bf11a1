// What only the file-system store does: a staging appended in order within
// one process is committed from its running hash, without reading it back.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ChecksumMismatchError } from "../domain/ports/blob-store-errors.js";
import { heldSyncs } from "../testing/held-syncs.js";
import { createFsBlobStore } from "./fs-blob-store.js";

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "modelreg-fs-store-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

it("commits in-order appends from the running hash (md5 left to later), and still verifies it", async () => {
  const store = createFsBlobStore({ root });
  const data = randomBytes(3 << 20);
  await store.createStaging("run");
  await store.append("run", 0, [data.subarray(0, 1 << 20)]);
  await store.append("run", 1 << 20, [data.subarray(1 << 20)]);
  // A declared digest that the bytes do not have is refused from the running hash...
  await expect(store.commitStaging("run", sha256Of(Buffer.from("other")))).rejects.toThrow(ChecksumMismatchError);
  // ...and the retry, with the running hash spent, reads the bytes back.
  const put = await store.commitStaging("run", sha256Of(data), { expectedSize: data.length });
  expect(put).toMatchObject({ sha256: sha256Of(data), size: data.length, created: true });
  expect(put.md5).toMatch(/^[0-9a-f]{32}$/);

  await store.createStaging("fast");
  const other = randomBytes(1 << 20);
  await store.append("fast", 0, [other]);
  expect(await store.commitStaging("fast", sha256Of(other))).toEqual({ sha256: sha256Of(other), md5: "", size: other.length, created: true });
});

it("does not trust the running hash once the staged file differs from what was appended", async () => {
  const store = createFsBlobStore({ root });
  const data = randomBytes(1 << 20);
  await store.createStaging("tampered");
  await store.append("tampered", 0, [data]);
  // Another writer (a second process, a restart) changed the file's length.
  await writeFile(join(root, "tmp", "tampered"), data.subarray(0, 1000));
  await expect(store.commitStaging("tampered", sha256Of(data))).rejects.toThrow(ChecksumMismatchError);
});

it("sweeps the temp files of puts whose process died, and leaves puts in progress and stagings alone", async () => {
  const dir = await mkdtemp(join(tmpdir(), "modelreg-fs-sweep-"));
  try {
    const store = createFsBlobStore({ root: dir });
    await store.createStaging("staged");
    await mkdir(join(dir, "tmp"), { recursive: true });
    const dead = join(dir, "tmp", "11111111-1111-4111-8111-111111111111.put");
    const live = join(dir, "tmp", "22222222-2222-4222-8222-222222222222.put");
    await writeFile(dead, randomBytes(1000));
    await writeFile(live, randomBytes(1000));
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(dead, hourAgo, hourAgo);
    expect(await store.sweepAbandoned(60_000)).toBe(1);
    expect((await readdir(join(dir, "tmp"))).sort()).toEqual(["22222222-2222-4222-8222-222222222222.put", "staged"]);
    expect(await store.stagedSize("staged")).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("lets an append write while the one before it is made durable; each returns once its bytes are, and shows nothing before", async () => {
  const syncs = heldSyncs();
  const store = createFsBlobStore({ root, syncFile: syncs.syncFile });
  const data = randomBytes(3 << 20);
  await store.createStaging("overlap");
  const first = store.append("overlap", 0, [data.subarray(0, 1 << 20)]);
  await syncs.started(1);
  const second = store.append("overlap", 1 << 20, [data.subarray(1 << 20)]);
  // The second wrote all of its bytes while the first's are being made durable.
  await syncs.started(2);
  expect((await stat(join(root, "tmp", "overlap"))).size).toBe(data.length);
  expect(await store.stagedSize("overlap")).toBe(0);
  syncs.release(0);
  expect(await first).toBe(1 << 20);
  expect(await store.stagedSize("overlap")).toBe(1 << 20);
  syncs.release(1);
  expect(await second).toBe(data.length);
  expect(await store.stagedSize("overlap")).toBe(data.length);
  // The running hash went on across the two.
  expect(await store.commitStaging("overlap", sha256Of(data))).toMatchObject({ sha256: sha256Of(data), md5: "", size: data.length });
});

it("drops the bytes an append could not make durable, and those a later append wrote after them, which then fails as written at the wrong offset", async () => {
  const syncs = heldSyncs();
  const store = createFsBlobStore({ root, syncFile: syncs.syncFile });
  const data = randomBytes(3 << 20);
  await store.createStaging("lost");
  syncs.passThrough(true);
  expect(await store.append("lost", 0, [data.subarray(0, 1 << 20)])).toBe(1 << 20);
  syncs.passThrough(false);
  const second = store.append("lost", 1 << 20, [data.subarray(1 << 20, 2 << 20)]);
  await syncs.started(1);
  const third = store.append("lost", 2 << 20, [data.subarray(2 << 20)]);
  await syncs.started(2);
  syncs.release(0, Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }));
  await expect(second).rejects.toThrow("EIO");
  syncs.release(1);
  await expect(third).rejects.toMatchObject({ reason: "OFFSET_MISMATCH", stagedSize: 1 << 20 });
  // What the first append made durable stays; the upload resumes from there and the content is whole.
  expect(await store.stagedSize("lost")).toBe(1 << 20);
  syncs.passThrough(true);
  expect(await store.append("lost", 1 << 20, [data.subarray(1 << 20)])).toBe(data.length);
  expect((await store.commitStaging("lost", sha256Of(data))).size).toBe(data.length);
});
