// One suite, run against both blob stores: the file system in a temp
// directory, and S3 against a real S3-protocol server (s3rver) on loopback.
import { ListObjectsCommand, type S3Client } from "@aws-sdk/client-s3";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { BlobNotFoundError, ChecksumMismatchError, OffsetMismatchError, StagingNotFoundError } from "../domain/ports/blob-store-errors.js";
import { createFsBlobStore } from "./fs-blob-store.js";
import { createS3BlobStore } from "./s3-blob-store.js";
import { startTestS3Server, type TestS3Server } from "./testing/s3-server.js";

const KiB = 1024;
const MiB = 1024 * KiB;

interface Harness {
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new store instance on the storage area `space` (a directory or key prefix). */
  open(space: string): BlobStore;
  /** What puts and stagings left in `space`: temp files or keys. */
  leftovers(space: string): Promise<string[]>;
  /** Whether of concurrent puts of the same new content exactly one reports created. */
  exactlyOneCreator: boolean;
}

function fsHarness(): Harness {
  let base = "";
  return {
    exactlyOneCreator: true,
    async setup() {
      base = await mkdtemp(join(tmpdir(), "modelreg-blobs-"));
    },
    async teardown() {
      await rm(base, { recursive: true, force: true });
    },
    open: (space) => createFsBlobStore({ root: join(base, space) }),
    async leftovers(space) {
      return readdir(join(base, space, "tmp")).catch(() => []);
    },
  };
}

function s3Harness(): Harness {
  let server: TestS3Server;
  let client: S3Client;
  return {
    exactlyOneCreator: false,
    async setup() {
      server = await startTestS3Server();
      client = server.client();
    },
    async teardown() {
      client?.destroy();
      await server?.stop();
    },
    // The smallest sizes S3 allows, so that 20 MiB takes the multipart
    // paths: uploads in 5 MiB parts, copies in parts above 6 MiB, and list
    // pages of 2 keys.
    open: (space) =>
      createS3BlobStore({ client, bucket: server.bucket, prefix: `runs/${space}`, partSize: 5 * MiB, maxCopyObjectSize: 6 * MiB, copyPartSize: 5 * MiB, listPageSize: 2 }),
    async leftovers(space) {
      const keys: string[] = [];
      for (const dir of ["tmp/", "staging/"]) {
        const page = await client.send(new ListObjectsCommand({ Bucket: server.bucket, Prefix: `runs/${space}/${dir}` }));
        for (const o of page.Contents ?? []) keys.push(o.Key!);
      }
      return keys;
    },
  };
}

const sha256Of = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const md5Of = (data: Uint8Array) => createHash("md5").update(data).digest("hex");

/** `data` in uneven pieces, so that part boundaries fall inside chunks. */
async function* pieces(data: Uint8Array, sizes = [1, 1000, 64 * KiB, 7, 300_000, 2 * MiB]): AsyncGenerator<Uint8Array> {
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

/** A stream that sends `data`, then fails, as a client that disconnects. */
async function* cutOff(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield* pieces(data);
  throw new Error("client went away");
}

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function listAll(store: BlobStore): Promise<{ sha256: string; size: number }[]> {
  const out = [];
  for await (const b of store.list()) out.push(b);
  return out;
}

const WRONG = "0".repeat(64);

describe.each([
  ["fs", fsHarness()],
  ["s3", s3Harness()],
])("%s blob store", (_kind, h) => {
  beforeAll(() => h.setup(), 30_000);
  afterAll(() => h.teardown(), 30_000);
  const fresh = () => {
    const space = randomUUID();
    return { space, store: h.open(space) };
  };

  describe.each([
    ["empty", 0],
    ["1 byte", 1],
    ["64 KiB", 64 * KiB],
    ["5 MiB", 5 * MiB],
    ["20 MiB", 20 * MiB + 3],
  ])("round trip of %s", (_name, size) => {
    it.each([
      ["without", false],
      ["with", true],
    ])("%s a declared digest", async (_w, declare) => {
      const { space, store } = fresh();
      const data = randomBytes(size);
      const sha256 = sha256Of(data);
      const body = size % 2 ? Readable.from(pieces(data)) : pieces(data);
      const put = await store.put(body, declare ? { expectedSha256: sha256, expectedSize: size } : {});
      expect(put).toEqual({ sha256, md5: md5Of(data), size, created: true });
      expect(await store.has(sha256)).toEqual({ size });
      expect((await bytesOf(await store.get(sha256))).equals(data)).toBe(true);
      // Identical content again: verified, not stored twice.
      const again = await store.put(pieces(data), declare ? { expectedSha256: sha256 } : {});
      expect(again).toEqual({ ...put, created: false });
      expect(await h.leftovers(space)).toEqual([]);
      await store.close();
    });
  });

  it("reads ranges", async () => {
    const { store } = fresh();
    const data = randomBytes(100 * KiB + 5);
    const size = data.length;
    const { sha256 } = await store.put(pieces(data));
    const read = async (offset: number, length?: number) => bytesOf(await store.get(sha256, { offset, length }));
    expect((await read(0)).equals(data)).toBe(true);
    expect((await read(10)).equals(data.subarray(10))).toBe(true);
    expect((await read(10, 100)).equals(data.subarray(10, 110))).toBe(true);
    expect((await read(size - 5, 100)).equals(data.subarray(size - 5))).toBe(true);
    expect((await read(size - 1)).equals(data.subarray(size - 1))).toBe(true);
    expect((await read(size)).length).toBe(0);
    expect((await read(size, 10)).length).toBe(0);
    expect((await read(0, 0)).length).toBe(0);
    await expect(store.get(sha256, { offset: size + 1 })).rejects.toThrow(InvalidArgumentError);
    await expect(store.get(sha256, { offset: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(store.get(sha256Of(Buffer.from("never stored")))).rejects.toThrow(BlobNotFoundError);
    await expect(store.get(sha256Of(Buffer.from("never stored")), { offset: 0, length: 0 })).rejects.toThrow(BlobNotFoundError);
  });

  it("refuses malformed digests everywhere", async () => {
    const { store } = fresh();
    for (const bad of ["", "abc", WRONG.toUpperCase().replace(/0/g, "A"), `${WRONG}0`, `../${WRONG.slice(3)}`]) {
      await expect(store.has(bad)).rejects.toThrow(InvalidArgumentError);
      await expect(store.get(bad)).rejects.toThrow(InvalidArgumentError);
      await expect(store.delete(bad)).rejects.toThrow(InvalidArgumentError);
      await expect(store.put(pieces(Buffer.from("x")), { expectedSha256: bad })).rejects.toThrow(/not a sha256 digest/);
    }
    await store.createStaging("s");
    await expect(store.commitStaging("s", "A".repeat(64))).rejects.toThrow(/64 lowercase hex/);
    await expect(store.createStaging("../x")).rejects.toThrow(InvalidArgumentError);
  });

  describe.each([
    ["1 KiB", KiB],
    ["20 MiB", 20 * MiB],
  ])("a checksum mismatch (%s) leaves nothing", (_name, size) => {
    it("with a wrong digest", async () => {
      const { space, store } = fresh();
      const data = randomBytes(size);
      const err = await store.put(pieces(data), { expectedSha256: WRONG }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChecksumMismatchError);
      expect((err as ChecksumMismatchError).actual).toEqual({ sha256: sha256Of(data), size });
      expect((err as Error).message).toMatch(/send it again/);
      expect(await store.has(WRONG)).toBeUndefined();
      expect(await store.has(sha256Of(data))).toBeUndefined();
      expect(await listAll(store)).toEqual([]);
      expect(await h.leftovers(space)).toEqual([]);
    });

    it("with a wrong size", async () => {
      const { space, store } = fresh();
      const data = randomBytes(size);
      // Too long: reading stops at the declared size.
      await expect(store.put(pieces(data), { expectedSize: size - 1 })).rejects.toThrow(ChecksumMismatchError);
      await expect(store.put(pieces(data), { expectedSize: size + 1, expectedSha256: sha256Of(data) })).rejects.toThrow(/size_bytes/);
      expect(await store.has(sha256Of(data))).toBeUndefined();
      expect(await h.leftovers(space)).toEqual([]);
    });
  });

  it("keeps nothing of a put whose body fails or is aborted", async () => {
    const { space, store } = fresh();
    const data = randomBytes(12 * MiB);
    await expect(store.put(cutOff(data))).rejects.toThrow(/client went away/);
    // A client that sends half, then stalls until the request is cancelled:
    // cancelled when the store asks for more than the half (read() is first
    // called once the pushed bytes have been taken), however long that takes.
    const abort = new AbortController();
    const stalled = new Readable({
      read() {
        abort.abort(new Error("cancelled by the test"));
      },
    });
    stalled.push(data.subarray(0, 6 * MiB));
    await expect(store.put(stalled, { signal: abort.signal })).rejects.toThrow(/cancelled by the test/);
    expect(stalled.destroyed).toBe(true);
    expect(await store.has(sha256Of(data))).toBeUndefined();
    expect(await h.leftovers(space)).toEqual([]);
  });

  it("stores concurrent puts of the same content once", async () => {
    const { space, store } = fresh();
    const data = randomBytes(6 * MiB);
    const sha256 = sha256Of(data);
    const results = await Promise.all([
      store.put(pieces(data)),
      store.put(pieces(data), { expectedSha256: sha256 }),
      h.open(space).put(pieces(data)),
    ]);
    for (const r of results) expect(r).toMatchObject({ sha256, size: data.length });
    const creators = results.filter((r) => r.created).length;
    if (h.exactlyOneCreator) expect(creators).toBe(1);
    else expect(creators).toBeGreaterThanOrEqual(1);
    expect((await bytesOf(await store.get(sha256))).equals(data)).toBe(true);
    expect(await h.leftovers(space)).toEqual([]);
  });

  it("lists and deletes blobs", async () => {
    const { store } = fresh();
    const blobs = [randomBytes(10), randomBytes(0), randomBytes(1000), randomBytes(33), randomBytes(5)];
    for (const b of blobs) await store.put(pieces(b));
    const expected = blobs.map((b) => ({ sha256: sha256Of(b), size: b.length })).sort((a, b) => a.sha256.localeCompare(b.sha256));
    const listed = () => listAll(store);
    expect(await listed()).toEqual(expected);
    await store.delete(expected[1]!.sha256);
    await store.delete(expected[1]!.sha256); // gone already: no error
    expect(await store.has(expected[1]!.sha256)).toBeUndefined();
    await expect(store.get(expected[1]!.sha256)).rejects.toThrow(BlobNotFoundError);
    expect(await listed()).toEqual(expected.filter((_, i) => i !== 1));
  });

  describe("staging", () => {
    it("appends in pieces, refuses a wrong offset, survives a reopen, and commits after a wrong digest is refused", async () => {
      const { space, store } = fresh();
      const data = randomBytes(11 * MiB + 17);
      const cuts = [0, 100, 6 * MiB, 6 * MiB + 1, data.length];
      await store.createStaging("upload-1");
      await store.createStaging("upload-1"); // again: harmless
      expect(await store.stagedSize("upload-1")).toBe(0);
      for (let i = 0; i + 1 < cuts.length; i++) {
        const [from, to] = [cuts[i]!, cuts[i + 1]!];
        expect(await store.append("upload-1", from, pieces(data.subarray(from, to)))).toBe(to);
        if (i === 1) {
          // A retry of the piece just sent, and one from the future.
          const err = await store.append("upload-1", cuts[1]!, pieces(data.subarray(cuts[1]!, to))).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(OffsetMismatchError);
          expect((err as OffsetMismatchError).stagedSize).toBe(to);
          expect((err as Error).message).toMatch(`resume from offset ${to}`);
          await expect(store.append("upload-1", to + 1, pieces(Buffer.from("x")))).rejects.toThrow(OffsetMismatchError);
          // A new instance on the same storage sees the same bytes.
          expect(await h.open(space).stagedSize("upload-1")).toBe(to);
        }
      }
      expect(await store.append("upload-1", data.length, pieces(Buffer.alloc(0)))).toBe(data.length);
      const reopened = h.open(space);
      expect(await reopened.stagedSize("upload-1")).toBe(data.length);

      const err = await reopened.commitStaging("upload-1", WRONG).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChecksumMismatchError);
      expect(await reopened.has(WRONG)).toBeUndefined();
      expect(await reopened.has(sha256Of(data))).toBeUndefined();
      expect(await reopened.stagedSize("upload-1")).toBe(data.length);
      await expect(reopened.commitStaging("upload-1", sha256Of(data), { expectedSize: data.length + 1 })).rejects.toThrow(ChecksumMismatchError);

      const put = await reopened.commitStaging("upload-1", sha256Of(data), { expectedSize: data.length });
      expect(put).toEqual({ sha256: sha256Of(data), md5: md5Of(data), size: data.length, created: true });
      expect((await bytesOf(await store.get(sha256Of(data)))).equals(data)).toBe(true);
      await expect(store.stagedSize("upload-1")).rejects.toThrow(StagingNotFoundError);
      await expect(store.append("upload-1", data.length, pieces(Buffer.from("x")))).rejects.toThrow(StagingNotFoundError);
      expect(await h.leftovers(space)).toEqual([]);
    });

    it("keeps nothing of a failed append", async () => {
      const { store } = fresh();
      const data = randomBytes(7 * MiB);
      await store.createStaging("u");
      await store.append("u", 0, pieces(data.subarray(0, 1000)));
      await expect(store.append("u", 1000, cutOff(data.subarray(1000)))).rejects.toThrow(/client went away/);
      expect(await store.stagedSize("u")).toBe(1000);
      expect(await store.append("u", 1000, pieces(data.subarray(1000)))).toBe(data.length);
      expect((await store.commitStaging("u", sha256Of(data))).created).toBe(true);
    });

    it("takes two appends at the same offset in turn: the second is refused, and shows nothing while the first is in progress", async () => {
      const { store } = fresh();
      const data = randomBytes(6 * MiB);
      await store.createStaging("twice");
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      async function* slow() {
        yield data.subarray(0, MiB);
        await held;
        yield data.subarray(MiB);
      }
      const first = store.append("twice", 0, slow());
      // Refused once the first has written (on the file system, maybe before the first has made its bytes durable and returned).
      const second = expect(store.append("twice", 0, pieces(data))).rejects.toBeInstanceOf(OffsetMismatchError);
      // The append in progress is invisible until it returns.
      expect(await store.stagedSize("twice")).toBe(0);
      release();
      expect(await first).toBe(data.length);
      await second;
      expect((await store.commitStaging("twice", sha256Of(data))).size).toBe(data.length);
    });

    it("commits content that is stored already without storing it again", async () => {
      const { space, store } = fresh();
      const data = randomBytes(3000);
      await store.put(pieces(data));
      await store.createStaging("dup");
      await store.append("dup", 0, pieces(data));
      expect(await store.commitStaging("dup", sha256Of(data))).toMatchObject({ sha256: sha256Of(data), created: false });
      await expect(store.stagedSize("dup")).rejects.toThrow(StagingNotFoundError);
      expect(await h.leftovers(space)).toEqual([]);
    });

    it("commits a staging without an expected sha256 under the digest of its bytes, calling beforePublish first", async () => {
      const { space, store } = fresh();
      const data = randomBytes(3 * MiB + 5);
      await store.createStaging("unbound");
      await store.append("unbound", 0, pieces(data.subarray(0, MiB)));
      await store.append("unbound", MiB, pieces(data.subarray(MiB)));
      const seen: { sha256: string; stored: boolean }[] = [];
      const beforePublish = async (sha256: string) => {
        seen.push({ sha256, stored: (await store.has(sha256)) !== undefined });
      };
      const put = await store.commitStaging("unbound", undefined, { expectedSize: data.length, beforePublish });
      expect(put).toMatchObject({ sha256: sha256Of(data), size: data.length, created: true });
      expect(seen).toEqual([{ sha256: sha256Of(data), stored: false }]);
      expect((await bytesOf(await store.get(sha256Of(data)))).equals(data)).toBe(true);
      // The same bytes again: found stored, not stored twice; a wrong size keeps the staging.
      await store.createStaging("again");
      await store.append("again", 0, pieces(data));
      await expect(store.commitStaging("again", undefined, { expectedSize: data.length + 1 })).rejects.toThrow(ChecksumMismatchError);
      expect(await store.commitStaging("again", undefined, { beforePublish })).toMatchObject({ sha256: sha256Of(data), created: false });
      expect(seen.map((s) => s.stored)).toEqual([false, true]);
      expect(await h.leftovers(space)).toEqual([]);
    });

    it("commits an empty staging", async () => {
      const { store } = fresh();
      await store.createStaging("empty");
      expect(await store.commitStaging("empty", sha256Of(Buffer.alloc(0)), { expectedSize: 0 })).toMatchObject({ size: 0, created: true });
      expect(await store.has(sha256Of(Buffer.alloc(0)))).toEqual({ size: 0 });
    });

    it("aborts", async () => {
      const { space, store } = fresh();
      await store.createStaging("gone");
      await store.append("gone", 0, pieces(randomBytes(6 * MiB)));
      await store.abortStaging("gone");
      await store.abortStaging("gone"); // again: no error
      await expect(store.stagedSize("gone")).rejects.toThrow(StagingNotFoundError);
      await expect(store.append("gone", 0, pieces(Buffer.from("x")))).rejects.toThrow(StagingNotFoundError);
      await expect(h.open(space).commitStaging("gone", WRONG)).rejects.toThrow(StagingNotFoundError);
      expect(await h.leftovers(space)).toEqual([]);
    });

    it("counts only completed appends in the staged size", async () => {
      const { store } = fresh();
      await store.createStaging("slow");
      const body = new Readable({ read() {} });
      body.push(randomBytes(1000));
      const pending = store.append("slow", 0, body);
      await new Promise((r) => setTimeout(r, 100));
      expect(await store.stagedSize("slow")).toBe(0);
      body.push(null);
      expect(await pending).toBe(1000);
      expect(await store.stagedSize("slow")).toBe(1000);
    });

    it("keeps stagings apart", async () => {
      const { store } = fresh();
      await store.createStaging("a");
      await store.createStaging("b");
      await store.append("a", 0, pieces(Buffer.from("aaa")));
      await store.append("b", 0, pieces(Buffer.from("bbbbb")));
      expect([await store.stagedSize("a"), await store.stagedSize("b")]).toEqual([3, 5]);
      await expect(store.stagedSize("c")).rejects.toThrow(StagingNotFoundError);
    });
  });
}, 120_000);
