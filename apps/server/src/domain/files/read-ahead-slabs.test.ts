// An upload's read-ahead slabs: copies hand on the same bytes, a chunk that
// crosses a slab's end is handed on in two views, a slab takes new copies
// only once every byte it holds is committed, and a request's slabs are
// kept for the next one, which a late copy of the first cannot touch.
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { ReadAheadSlabs, SLAB_BYTES, slabCounts } from "./read-ahead-slabs.js";

/** Copies `chunks` (the content from offset `from`) and returns the views handed on. */
function copyAll(slabs: ReadAheadSlabs, chunks: Uint8Array[], from = 0): Buffer[] {
  const views: Buffer[] = [];
  let end = from;
  for (const c of chunks) {
    end += c.length;
    slabs.copy(c, end, (v) => views.push(v));
  }
  return views;
}

/** Takes every kept slab out (into requests that never end), so a test starts from none. */
function drainKept(): void {
  while (slabCounts().kept > 0) copyAll(new ReadAheadSlabs(), [Buffer.alloc(SLAB_BYTES)]);
}

it("hands on copies of the bytes, one view per slab a chunk spans", () => {
  drainKept();
  const made = slabCounts().made;
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
  expect(slabCounts().made - made).toBe(2);
});

it("reuses a slab only once every byte it holds is committed", () => {
  drainKept();
  const made = slabCounts().made;
  const slabs = new ReadAheadSlabs();
  const full = copyAll(slabs, [randomBytes(SLAB_BYTES), randomBytes(100)])[0]!;
  // The first slab's last byte is at SLAB_BYTES - 1: committing up to it is not enough.
  slabs.committed(SLAB_BYTES - 1);
  const more = copyAll(slabs, [randomBytes(SLAB_BYTES)], SLAB_BYTES + 100);
  expect(more.some((v) => v.buffer === full.buffer)).toBe(false);
  expect(slabCounts().made - made).toBe(3);
  // Committed through the first slab: its memory takes the next copy, and no slab is made.
  slabs.committed(SLAB_BYTES);
  // The slab being filled takes copies until it is full; then the reused one.
  const next = copyAll(slabs, [Buffer.from("next")], 2 * SLAB_BYTES + 100);
  expect(next[0]!.buffer).toBe(more[more.length - 1]!.buffer);
  const last = copyAll(slabs, [randomBytes(SLAB_BYTES)], 2 * SLAB_BYTES + 104);
  expect(last.map((v) => v.buffer)).toContain(full.buffer);
  expect(slabCounts().made - made).toBe(3);
});

it("keeps a request's slabs for the next request, and copies nothing after its release", () => {
  drainKept();
  const first = new ReadAheadSlabs();
  const held = copyAll(first, [randomBytes(SLAB_BYTES + 5)]);
  first.release();
  expect(slabCounts().kept).toBe(2);
  // A read that was in flight when the request ended: nothing is copied, nothing handed on.
  expect(copyAll(first, [Buffer.from("late")], SLAB_BYTES + 5)).toEqual([]);
  const made = slabCounts().made;
  const second = new ReadAheadSlabs();
  const views = copyAll(second, [randomBytes(SLAB_BYTES), randomBytes(SLAB_BYTES)]);
  expect(slabCounts().made).toBe(made);
  expect(new Set(views.map((v) => v.buffer))).toEqual(new Set(held.map((v) => v.buffer)));
});
