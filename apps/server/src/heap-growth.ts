// How far the JavaScript heap may grow past what the last full garbage
// collection kept, before V8 collects it fully again: HEAP_GROWING_PERCENT
// of it, but never less than MIN_HEADROOM_BYTES.
//
// V8's own growing factor goes up to 4x, a browser tab's trade: a server
// under steady load then holds mostly garbage (500 watch streams: 307 MB
// RSS, 201 MB with 50%). A percentage alone fails the other way on a small
// heap. V8 counts the memory of buffers (outside its heap) allocated since
// the last full collection against the old generation's room, and it
// starts marking once that room is under one young generation (16 MiB
// here). A transfer allocates a buffer per network read; right after each
// young collection some 20-30 MB of them are counted while they are freed,
// which ate the ~29 MB of room that half of modelreg's ~27 MB heap gives:
// a 1 GiB upload ran 32-44 full collections, each freeing 1-5 MB, 1.6 s of
// CPU on V8's helper threads. With 64 MiB of room it runs 0-3.
//
// The flag is read at each full collection, which computes the next limit
// from what it kept. It is set after every collection from the old
// generation's size then, which is at least what the next full collection
// will keep: the room is never more than the floor or the percent asks for.
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/** The least room the heap gets past what a full collection kept: well above one young generation's worth of promotion. */
export const MIN_HEADROOM_BYTES = 64 << 20;
/** Percents are set in steps of this, so that a heap drifting by a few bytes does not set the flag after every collection. */
const STEP = 10;

/** The growing percent for a heap that kept `liveBytes`: `percent`, or more when that would leave less than `minHeadroom` of room. */
export function growingPercent(liveBytes: number, percent: number, minHeadroom = MIN_HEADROOM_BYTES): number {
  if (!(liveBytes > 0)) return percent;
  return Math.max(percent, Math.ceil((100 * minHeadroom) / liveBytes / STEP) * STEP);
}

/** Bytes in the old generation now (every space but the young generation's): after a full collection, what it kept; later, that and what was promoted since. */
export function oldGenerationBytes(): number {
  let bytes = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== "new_space" && s.space_name !== "new_large_object_space") bytes += s.space_used_size;
  return bytes;
}

export interface HeapGrowth {
  /** The percent set last. */
  readonly percent: number;
  stop(): void;
}

/**
 * Sets V8's heap growing percent to `percent`, raised as far as
 * MIN_HEADROOM_BYTES needs for the old generation's size after each
 * collection (growingPercent). `percent` 0 leaves V8's own growing factor
 * alone, and returns undefined.
 */
export function limitHeapGrowth(percent: number, opts: { minHeadroom?: number; setFlags?: (flags: string) => void } = {}): HeapGrowth | undefined {
  if (percent <= 0) return undefined;
  const setFlags = opts.setFlags ?? setFlagsFromString;
  let current = 0;
  const apply = () => {
    const next = growingPercent(oldGenerationBytes(), percent, opts.minHeadroom);
    if (next === current) return;
    current = next;
    setFlags(`--heap-growing-percent=${next}`);
  };
  apply();
  const observer = new PerformanceObserver(apply);
  observer.observe({ entryTypes: ["gc"] });
  return {
    get percent() {
      return current;
    },
    stop: () => observer.disconnect(),
  };
}
