// The blob reads' reusable buffers: the file store's reads fill them, its
// writer hands them back once written, and the next read fills them again;
// bytes stay right when reads, puts and plain readers run at once.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsBlobStore } from "./fs-blob-store.js";
import { READ_BUFFER_BYTES, readBufferCounts, recycle, takeReadBuffer } from "./read-buffers.js";

const spareReadBuffers = () => readBufferCounts().spare;

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "modelreg-read-buffers-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Hands every spare buffer out, so a test starts from none. */
function drainSpares(): Buffer[] {
  const taken: Buffer[] = [];
  while (spareReadBuffers() > 0) taken.push(takeReadBuffer());
  return taken;
}

describe("takeReadBuffer / recycle", () => {
  it("gives a recycled buffer to the next read, once, and takes back only its own", () => {
    drainSpares();
    const a = takeReadBuffer();
    expect(a.length).toBe(READ_BUFFER_BYTES);
    recycle(a.subarray(0, 10)); // a chunk is a view of the buffer
    recycle(a); // handed back twice: kept once
    expect(spareReadBuffers()).toBe(1);
    expect(takeReadBuffer().buffer).toBe(a.buffer);
    expect(spareReadBuffers()).toBe(0);

    recycle(Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)); // not one of ours: an upload's network buffer
    recycle(new Uint8Array(16));
    expect(spareReadBuffers()).toBe(0);
  });

  it("keeps a bounded number of spares", () => {
    drainSpares();
    const many = Array.from({ length: 50 }, () => takeReadBuffer());
    many.forEach(recycle);
    expect(spareReadBuffers()).toBeGreaterThan(0);
    expect(spareReadBuffers()).toBeLessThan(many.length);
  });
});

describe("the file store's reads and writes", () => {
  it("hands a put's buffers back to the reads: a blob copied through get and put reuses a few buffers", async () => {
    const store = createFsBlobStore({ root });
    const data = randomBytes(24 * READ_BUFFER_BYTES + 12345);
    const { sha256 } = await store.put([data]);
    drainSpares();
    const madeBefore = readBufferCounts().made;
    // Read and written again through a stage that changes the bytes (so it is a new blob).
    const copy = await store.put(
      (async function* () {
        yield Buffer.from("header");
        yield* await store.get(sha256);
      })(),
    );
    expect(copy.sha256).toBe(sha256Of(Buffer.concat([Buffer.from("header"), data])));
    // 25 reads into a handful of buffers: the writer handed each back once written.
    expect(readBufferCounts().made - madeBefore).toBeLessThan(12);
    expect(spareReadBuffers()).toBeGreaterThan(0);
  });

  it("keeps every reader's bytes right while reads, puts of what they read and plain readers run at once", async () => {
    const store = createFsBlobStore({ root });
    const blobs = [randomBytes(9 * READ_BUFFER_BYTES + 7), randomBytes(5 * READ_BUFFER_BYTES), randomBytes(READ_BUFFER_BYTES - 1)];
    const shas = await Promise.all(blobs.map(async (b) => (await store.put([b])).sha256));
    const prefixed = (i: number) => Buffer.concat([Buffer.from(`copy ${i}`), blobs[i % blobs.length]!]);
    const copies = Array.from({ length: 6 }, async (_, i) => {
      const put = await store.put(
        (async function* () {
          yield Buffer.from(`copy ${i}`);
          yield* await store.get(shas[i % shas.length]!);
        })(),
      );
      expect(put.sha256).toBe(sha256Of(prefixed(i)));
      // The stored copy reads back whole, too.
      const back: Buffer[] = [];
      for await (const c of await store.get(put.sha256)) back.push(Buffer.from(c as Uint8Array));
      expect(sha256Of(Buffer.concat(back))).toBe(put.sha256);
    });
    // Plain readers (a download) keep the chunks they were given: none is reused under them.
    const held = Array.from({ length: 4 }, async (_, i) => {
      const chunks: Uint8Array[] = [];
      for await (const c of await store.get(shas[i % shas.length]!)) chunks.push(c as Uint8Array);
      await new Promise((r) => setImmediate(r));
      return { i, chunks };
    });
    await Promise.all(copies);
    for (const { i, chunks } of await Promise.all(held)) expect(sha256Of(Buffer.concat(chunks))).toBe(shas[i % shas.length]);
  });

  it("hands a slow reader one read buffer's bytes per chunk, never several joined into a copy", async () => {
    const store = createFsBlobStore({ root });
    const data = randomBytes(6 * READ_BUFFER_BYTES);
    const { sha256 } = await store.put([data]);
    const chunks: Uint8Array[] = [];
    for await (const c of await store.get(sha256)) {
      chunks.push(Buffer.from(c as Uint8Array)); // a copy: the buffer may be reused once handed back
      recycle(c as Uint8Array);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    expect(chunks.map((c) => c.length)).toEqual(Array(6).fill(READ_BUFFER_BYTES));
    expect(sha256Of(Buffer.concat(chunks))).toBe(sha256);
  });

  it("reads a range into the buffers, and closes the file when the reader stops early", async () => {
    const store = createFsBlobStore({ root });
    const data = randomBytes(3 * READ_BUFFER_BYTES);
    const { sha256 } = await store.put([data]);
    const range: Uint8Array[] = [];
    for await (const c of await store.get(sha256, { offset: READ_BUFFER_BYTES - 5, length: READ_BUFFER_BYTES + 10 })) range.push(c as Uint8Array);
    expect(sha256Of(Buffer.concat(range))).toBe(sha256Of(data.subarray(READ_BUFFER_BYTES - 5, 2 * READ_BUFFER_BYTES + 5)));

    const stream = await store.get(sha256);
    const closed = new Promise((r) => stream.once("close", r));
    for await (const _ of stream) break;
    await closed;
    expect(stream.destroyed).toBe(true);
  });
});
