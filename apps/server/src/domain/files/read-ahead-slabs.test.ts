// An upload's read-ahead slabs: copies hand on the same bytes, a chunk that
// crosses a slab's end is handed on in two views, and a slab takes new
// copies only once every byte it holds is committed.
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { ReadAheadSlabs, SLAB_BYTES } from "./read-ahead-slabs.js";

/** Copies `chunks` (the content from offset 0) and returns the views handed on. */
function copyAll(slabs: ReadAheadSlabs, chunks: Uint8Array[], from = 0): Buffer[] {
  const views: Buffer[] = [];
  let end = from;
  for (const c of chunks) {
    end += c.length;
    slabs.copy(c, end, (v) => views.push(v));
  }
  return views;
}

it("hands on copies of the bytes, one view per slab a chunk spans", () => {
  const slabs = new ReadAheadSlabs();
  const a = randomBytes(SLAB_BYTES - 10);
  const b = randomBytes(30);
  const views = copyAll(slabs, [a, b]);
  expect(views.map((v) => v.length)).toEqual([SLAB_BYTES - 10, 10, 20]);
  expect(Buffer.concat(views).equals(Buffer.concat([a, b]))).toBe(true);
  // Copies, in memory of their own: the chunks may be dropped (or reused by their owner).
  expect(views.some((v) => v.buffer === a.buffer || v.buffer === b.buffer)).toBe(false);
  expect(views[1]!.buffer).toBe(views[0]!.buffer);
  expect(views[2]!.buffer).not.toBe(views[1]!.buffer);
  expect(slabs.made).toBe(2);
});

it("reuses a slab only once every byte it holds is committed", () => {
  const slabs = new ReadAheadSlabs();
  const first = copyAll(slabs, [randomBytes(SLAB_BYTES), randomBytes(100)]);
  const full = first[0]!;
  // The first slab's last byte is at SLAB_BYTES - 1: committing up to it is not enough.
  slabs.committed(SLAB_BYTES - 1);
  const more = copyAll(slabs, [randomBytes(SLAB_BYTES)], SLAB_BYTES + 100);
  expect(more.some((v) => v.buffer === full.buffer)).toBe(false);
  expect(slabs.made).toBe(3);
  // Committed through the first slab: its memory takes the next copy, and no slab is made.
  slabs.committed(SLAB_BYTES);
  const next = copyAll(slabs, [Buffer.from("next")], 2 * SLAB_BYTES + 100);
  // The slab being filled takes copies until it is full; then the reused one.
  expect(next[0]!.buffer).toBe(more[more.length - 1]!.buffer);
  const last = copyAll(slabs, [randomBytes(SLAB_BYTES)], 2 * SLAB_BYTES + 104);
  expect(last.map((v) => v.buffer)).toContain(full.buffer);
  expect(slabs.made).toBe(3);
});
