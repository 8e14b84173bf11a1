// appendInSteps against the real file-system store: the bytes of one body
// land in appends that end on multiples of the step, a body cut midway
// keeps its whole steps, and the staged bytes are exactly the body's.
import { createHash, randomBytes } from "node:crypto";
import { afterEach, beforeEach, expect, it, onTestFinished } from "vitest";
import { heldSyncs } from "../../testing/held-syncs.js";
import { createTestStore } from "../../testing/test-store.js";
import type { BlobStore } from "../ports/blob-store.js";
import { appendInSteps } from "./append-steps.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
let blobs: { store: BlobStore; remove(): void };
beforeEach(() => {
  blobs = createTestStore();
});
afterEach(() => blobs.remove());

/** `data` in chunks of the given sizes, repeated; throws after `cutAfter` bytes. */
async function* chunksOf(data: Buffer, sizes: number[], cutAfter = Number.POSITIVE_INFINITY): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    if (at >= cutAfter) throw new Error("connection cut");
    const n = Math.min(sizes[i % sizes.length]!, data.length - at, cutAfter - at);
    yield data.subarray(at, at + n);
    at += n;
  }
}

/** The store's append for staging `id`, recording where each append started and ended. */
function recorded(store: BlobStore, id: string) {
  const appends: [number, number][] = [];
  const append = async (offset: number, body: AsyncIterable<Uint8Array>) => {
    const end = await store.append(id, offset, body);
    appends.push([offset, end]);
    return end;
  };
  return { append, appends };
}

/** `data` in chunks of 100 bytes (throwing at `cutAfter`), watched: how far it was read, and a wait until it was read that far. */
function watchedBody(data: Buffer) {
  let read = 0;
  let wake = () => {};
  async function* body(cutAfter = Number.POSITIVE_INFINITY): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < data.length; at += 100) {
      if (at >= cutAfter) throw new Error("connection cut");
      read = at + 100;
      wake();
      yield data.subarray(at, at + 100);
    }
  }
  /** Resolves once the body has yielded `n` bytes. */
  const yieldedAtLeast = (n: number) =>
    new Promise<void>((resolve) => {
      wake = () => read >= n && resolve();
      wake();
    });
  return { body, yieldedAtLeast, yielded: () => read, reset: () => (read = 0) };
}

/** Lets every pending pull of a watched body (microtasks only: it does no I/O) run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

it("appends a body in steps ending on multiples of the step, from an offset off the grid", async () => {
  const { store } = blobs;
  await store.createStaging("s1");
  const data = randomBytes(5000);
  const first = recorded(store, "s1");
  expect(await appendInSteps(first.append, 0, chunksOf(data.subarray(0, 1500), [700]), 1000)).toBe(1500);
  expect(first.appends).toEqual([
    [0, 1000],
    [1000, 1500],
  ]);
  const rest = recorded(store, "s1");
  const seen: number[] = [];
  expect(await appendInSteps(rest.append, 1500, chunksOf(data.subarray(1500), [333, 2100, 1]), 1000, { onCommitted: (at) => seen.push(at) })).toBe(5000);
  expect(rest.appends).toEqual([
    [1500, 2000],
    [2000, 3000],
    [3000, 4000],
    [4000, 5000],
  ]);
  expect(seen).toEqual([2000, 3000, 4000, 5000]);
  // A body that ends on a step's end is not followed by an empty append.
  const put = await store.commitStaging("s1", sha256Of(data), { expectedSize: 5000 });
  expect(put.size).toBe(5000);
});

it("keeps the whole steps of a body cut midway and drops the step in progress", async () => {
  const { store } = blobs;
  await store.createStaging("s2");
  const data = randomBytes(4000);
  const { append } = recorded(store, "s2");
  await expect(appendInSteps(append, 0, chunksOf(data, [300], 2750), 1000)).rejects.toThrow("connection cut");
  expect(await store.stagedSize("s2")).toBe(2000);
  // The client resumes from there and the content is whole.
  const again = recorded(store, "s2");
  expect(await appendInSteps(again.append, 2000, chunksOf(data.subarray(2000), [4096]), 1000)).toBe(4000);
  expect((await store.commitStaging("s2", sha256Of(data))).size).toBe(4000);
});

it("makes one (refused) append of an empty body at the wrong offset", async () => {
  const { store } = blobs;
  await store.createStaging("s3");
  const { append, appends } = recorded(store, "s3");
  expect(await appendInSteps(append, 0, chunksOf(Buffer.alloc(0), [1]), 1000)).toBe(0);
  expect(appends).toEqual([[0, 0]]);
  await expect(appendInSteps(append, 5, chunksOf(Buffer.alloc(0), [1]), 1000)).rejects.toMatchObject({ reason: "OFFSET_MISMATCH" });
});

it("reads the next step's bytes while a step is made durable, at most one step ahead, and commits that step if the body is cut meanwhile", async () => {
  const { store } = blobs;
  await store.createStaging("s4");
  const data = randomBytes(10_000);
  const { body, yieldedAtLeast, yielded, reset } = watchedBody(data);
  // A step below is "durable" only once the body was read on: without read-ahead it would never be.
  const ahead: number[] = [];
  const append = async (offset: number, piece: AsyncIterable<Uint8Array>) => {
    const end = await store.append("s4", offset, piece);
    if (end < data.length) {
      await yieldedAtLeast(Math.min(data.length, end + 1000));
      ahead.push(yielded() - end);
    }
    return end;
  };
  expect(await appendInSteps(append, 0, body(), 1000)).toBe(10_000);
  // Each step waited for a whole step of read-ahead, and never read more.
  expect(ahead).toHaveLength(9);
  for (const n of ahead) expect(n).toBe(1000);
  expect((await store.commitStaging("s4", sha256Of(data))).size).toBe(10_000);

  // Cut while the first step is being made durable: that step stays, the read-ahead bytes do not.
  await store.createStaging("s5");
  reset();
  const cutAppend = async (offset: number, piece: AsyncIterable<Uint8Array>) => {
    const end = await store.append("s5", offset, piece);
    if (end === 1000) await yieldedAtLeast(1500);
    return end;
  };
  await expect(appendInSteps(cutAppend, 0, body(1500), 1000)).rejects.toThrow("connection cut");
  expect(await store.stagedSize("s5")).toBe(1000);
});

it("reads the body on while the store takes in the bytes read ahead, one chunk for each it takes", async () => {
  const { store } = blobs;
  await store.createStaging("s6");
  const data = randomBytes(4000);
  const { body, yieldedAtLeast, yielded } = watchedBody(data);
  const seen: number[] = [];
  const append = async (offset: number, piece: AsyncIterable<Uint8Array>) => {
    if (offset === 0) {
      // The first step is "durable" once a whole step was read ahead.
      const end = await store.append("s6", offset, piece);
      await yieldedAtLeast(2000);
      return end;
    }
    if (offset !== 1000) return store.append("s6", offset, piece);
    // The second step takes two chunks of what was read ahead, and looks how far the body was read meanwhile.
    const chunks = piece[Symbol.asyncIterator]();
    const taken: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      taken.push((await chunks.next()).value as Uint8Array);
      await settle();
      seen.push(yielded());
    }
    async function* rest(): AsyncGenerator<Uint8Array> {
      yield* taken;
      for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
    }
    return store.append("s6", offset, rest());
  };
  expect(await appendInSteps(append, 0, body(), 1000)).toBe(4000);
  // One step (1000 bytes) was read ahead when the second step began; each chunk it took was read again at once.
  expect(seen).toEqual([2100, 2200]);
  expect((await store.commitStaging("s6", sha256Of(data))).size).toBe(4000);
});

it("reads ahead at most readAheadBytes, and keeps the bytes of a later step than the one in progress as copies, the step's own bytes as the body's chunks", async () => {
  const { store } = blobs;
  await store.createStaging("s7");
  const data = randomBytes(5000);
  const { body, yieldedAtLeast, yielded } = watchedBody(data);
  const ahead: number[] = [];
  /** Per step after the first: for each chunk the store took, whether it was a copy (not a view of `data`). */
  const copies: boolean[][] = [];
  const append = async (offset: number, piece: AsyncIterable<Uint8Array>) => {
    const taken: boolean[] = [];
    async function* watched(): AsyncGenerator<Uint8Array> {
      for await (const chunk of piece) {
        taken.push(chunk.buffer !== data.buffer);
        yield chunk;
      }
    }
    const end = await store.append("s7", offset, watched());
    if (offset > 0) copies.push(taken);
    if (end < data.length) {
      // "Durable" once the read-ahead stopped: it must stop at 400 bytes, well short of a step.
      await yieldedAtLeast(end + 400);
      await settle();
      ahead.push(yielded() - end);
    }
    return end;
  };
  expect(await appendInSteps(append, 0, body(), 1000, { readAheadBytes: 400 })).toBe(5000);
  expect(ahead).toEqual([400, 400, 400, 400]);
  // Each later step took the 400 bytes read before it began as copies (4 chunks of 100), then the body's own chunks.
  expect(copies).toEqual(Array.from({ length: 4 }, () => [true, true, true, true, false, false, false, false, false, false]));
  expect((await store.commitStaging("s7", sha256Of(data))).size).toBe(5000);
});

/** A file-system store of its own for this test whose appends' syncs wait for the test (../../testing/held-syncs.ts), with staging `id` made. */
async function heldStore(id: string) {
  const syncs = heldSyncs();
  const held = createTestStore({ syncFile: syncs.syncFile });
  onTestFinished(() => held.remove());
  await held.store.createStaging(id);
  return { store: held.store, syncs };
}

it("with overlapping appends, writes the next step while one is made durable, at most one step so, and commits the steps in order", async () => {
  const { store, syncs } = await heldStore("o1");
  const data = randomBytes(3500);
  const seen: number[] = [];
  const starts: number[] = [];
  const append = (at: number, piece: AsyncIterable<Uint8Array>) => {
    starts.push(at);
    return store.append("o1", at, piece);
  };
  const appending = appendInSteps(append, 0, chunksOf(data, [300]), 1000, { overlap: true, onCommitted: (at) => seen.push(at) });
  // The second step is written while the first is held; the third does not start before the first is durable.
  await syncs.started(2);
  await settle();
  expect(starts).toEqual([0, 1000]);
  expect(seen).toEqual([]);
  syncs.release(0);
  await syncs.started(3);
  expect(seen).toEqual([1000]);
  syncs.release(1);
  await syncs.started(4);
  expect(seen).toEqual([1000, 2000]);
  syncs.release(2);
  syncs.release(3);
  expect(await appending).toBe(3500);
  expect(seen).toEqual([1000, 2000, 3000, 3500]);
  expect((await store.commitStaging("o1", sha256Of(data))).size).toBe(3500);
});

it("with overlapping appends, fails a request whose step could not be made durable once the step after it settled, keeping the steps before", async () => {
  const { store, syncs } = await heldStore("o2");
  const data = randomBytes(4000);
  const seen: number[] = [];
  const appending = appendInSteps((at, piece) => store.append("o2", at, piece), 0, chunksOf(data, [300]), 1000, {
    overlap: true,
    onCommitted: (at) => seen.push(at),
  });
  const outcome = appending.then(
    () => "resolved",
    (err: Error) => err.message,
  );
  await syncs.started(2);
  syncs.release(0);
  await syncs.started(3);
  // The second step's bytes cannot be made durable while the third's are being written.
  syncs.release(1, new Error("EIO: i/o error, fsync"));
  syncs.release(2);
  expect(await outcome).toBe("EIO: i/o error, fsync");
  expect(seen).toEqual([1000]);
  expect(await store.stagedSize("o2")).toBe(1000);
  // A body cut midway keeps its whole steps as without overlap.
  await store.createStaging("o3");
  syncs.passThrough(true);
  await expect(appendInSteps((at, piece) => store.append("o3", at, piece), 0, chunksOf(data, [300], 2750), 1000, { overlap: true })).rejects.toThrow("connection cut");
  expect(await store.stagedSize("o3")).toBe(2000);
});
