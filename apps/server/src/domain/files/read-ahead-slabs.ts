// Where an upload request keeps the bytes it reads ahead of the step in
// progress (append-steps.ts): copied out of the network's buffers into
// slabs of its own, reused once the bytes they hold are committed.
//
// Why: every network chunk is a buffer outside V8's heap, freed only when V8
// collects the object that holds it. A chunk of the step in progress is
// hashed and written within milliseconds, and a young-generation collection
// (./young-collections.ts) frees it. A chunk of the next step waits until
// the step in progress is durable (an fsync, or an S3 object's last bytes),
// long enough to outlive two young collections: V8 then moves it to the old
// generation, where only a full collection frees it. A copy lets the
// network's chunk die young. The slabs are reused while the request lasts
// (it holds two read-aheads' worth at most, READ_AHEAD_BYTES each: the one
// the step in progress takes in, and the next) and dropped with it.

/** Bytes per slab. */
export const SLAB_BYTES = 1 << 20;

/** A slab, and the offset in the content just past the last byte copied into it. */
interface Held {
  slab: Buffer;
  end: number;
}

/** The slabs of one upload request. */
export class ReadAheadSlabs {
  /** Slabs whose bytes are all committed, for the next copies. */
  private readonly spare: Buffer[] = [];
  /** Slabs holding bytes not yet committed, oldest first; the last may be the one being filled. */
  private readonly held: Held[] = [];
  private filling: Held | undefined;
  private used = 0;
  /** Slabs allocated so far (for tests). */
  made = 0;

  /**
   * Copies `chunk`, whose last byte is at offset `end - 1` of the content,
   * and hands on views of the copy, in order (one per slab it spans).
   */
  copy(chunk: Uint8Array, end: number, hand: (view: Buffer) => void): void {
    let from = 0;
    while (from < chunk.length) {
      if (!this.filling || this.used === SLAB_BYTES) {
        this.filling = { slab: this.spare.pop() ?? this.newSlab(), end };
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
      this.spare.push(done.slab);
    }
  }

  private newSlab(): Buffer {
    this.made += 1;
    return Buffer.allocUnsafeSlow(SLAB_BYTES);
  }
}
