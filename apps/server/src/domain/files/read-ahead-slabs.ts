// Where an upload request keeps the bytes it reads ahead of the step in
// progress (append-steps.ts): copied out of the network's buffers into
// slabs, reused once the bytes they hold are committed, and kept for the
// next request.
//
// Why: every network chunk is a buffer outside V8's heap, freed only when V8
// collects the object that holds it. A chunk of the step in progress is
// hashed and written within milliseconds, and a young-generation collection
// (./young-collections.ts) frees it. A chunk of the next step waits until
// the step in progress is durable (an fsync, or an S3 object's last bytes),
// long enough to outlive two young collections: V8 then moves it to the old
// generation, where only a full collection frees it. A copy lets the
// network's chunk die young; the slabs live on and are reused, so they add
// no garbage of their own.

/** Bytes per slab. */
export const SLAB_BYTES = 1 << 20;
/**
 * Slabs kept between requests. A request holds two read-aheads' worth at
 * most (READ_AHEAD_BYTES, 4 MiB, each: the one the step in progress takes
 * in, and the next), about half of them at its end.
 */
const KEEP = 8;

const kept: Buffer[] = [];
let made = 0;

/** A slab, and the offset in the content just past the last byte copied into it. */
interface Held {
  slab: Buffer;
  end: number;
}

/** The slabs of one upload request. */
export class ReadAheadSlabs {
  /** Slabs holding bytes not yet committed, oldest first; the last may be the one being filled. */
  private readonly held: Held[] = [];
  private filling: Held | undefined;
  private used = 0;
  private released = false;

  /**
   * Copies `chunk`, whose last byte is at offset `end - 1` of the content,
   * and hands on views of the copy, in order (one per slab it spans).
   * After release(), copies nothing: a read still in flight when the
   * request ended must not write into a slab another request now uses.
   */
  copy(chunk: Uint8Array, end: number, hand: (view: Buffer) => void): void {
    if (this.released) return;
    let from = 0;
    while (from < chunk.length) {
      if (!this.filling || this.used === SLAB_BYTES) {
        this.filling = { slab: takeSlab(), end };
        this.held.push(this.filling);
        this.used = 0;
      }
      const n = Math.min(chunk.length - from, SLAB_BYTES - this.used);
      this.filling.slab.set(chunk.subarray(from, from + n), this.used);
      hand(this.filling.slab.subarray(this.used, this.used + n));
      this.used += n;
      from += n;
      this.filling.end = end - (chunk.length - from);
    }
  }

  /**
   * Every byte before `offset` is committed (the store is done with them):
   * the slabs that hold only such bytes take the next copies.
   */
  committed(offset: number): void {
    while (this.held.length > 0 && this.held[0]!.end <= offset) {
      const done = this.held.shift()!;
      if (done === this.filling) this.filling = undefined;
      keepSlab(done.slab);
    }
  }

  /**
   * The request is over and no store holds its bytes: its slabs are kept
   * for the next request. After a failed append, do not call this: the
   * store may not be done with them, and they are dropped instead.
   */
  release(): void {
    this.released = true;
    for (const { slab } of this.held.splice(0)) keepSlab(slab);
    this.filling = undefined;
  }
}

function takeSlab(): Buffer {
  const slab = kept.pop();
  if (slab) return slab;
  made += 1;
  return Buffer.allocUnsafeSlow(SLAB_BYTES);
}

function keepSlab(slab: Buffer): void {
  if (kept.length < KEEP) kept.push(slab);
}

/** How many slabs are kept, and how many were ever made (for tests). */
export function slabCounts(): { kept: number; made: number } {
  return { kept: kept.length, made };
}
