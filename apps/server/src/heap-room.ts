// How far the JavaScript heap may grow past what the last full garbage
// collection kept, before V8 collects it fully again.
//
// V8's own growing factor goes up to 4x, a browser tab's trade: a server
// under steady load then holds mostly garbage (500 watch streams: 357 MB
// RSS against 224 MB with 50%). So the heap grows by HEAP_GROWING_PERCENT
// (50) of what the last full collection kept, but a heap that kept less
// than QUIET_ROOM_BYTES grows by at least that much while the server only
// answers unary calls: no blob read or written, no streaming call open.
//
// Why the floor: half of modelreg's ~24 MB heap is 12 MB, and plain RPC load
// promotes some 6 KB per call to the old generation (a bare Connect server
// as much), so GetVersion at 64 in flight ran a full collection every ~2,000
// calls, 5 per 10,000 against a bare Connect server's 2 on V8's factor: 20
// of the 47 us of CPU per call that V8's helper threads spent, the last
// gap to that server (issue 17). Streams hold memory for long: with the
// floor, 500 watch streams (a ~51 MB heap, ~16 MB as they opened) peaked
// at 229-242 MB of RSS against 191-196 MB without it (bench tasks --only
// watch), so an open streaming call ends the floor (http/rpc-adapter.ts),
// and so does a heap that kept QUIET_ROOM_BYTES or more.
//
// Why not while bytes move: V8 counts the buffers a transfer allocates
// outside its heap against the same room, and the full collections are what
// free the buffers that were promoted; with a 64 MiB floor during exports,
// the server's RSS stayed at 224-239 MB (d1d9e32 reverted it). So while any
// blob is read or written (the blob store's streams and writes,
// storage/bulk-activity.ts) or a stream is open, the percent alone
// applies, and the floor comes back only once none has run for
// QUIET_AFTER_MS: a heap that grew into the floor's room between two
// transfers kept those pages, and bench transfer's cases then started at
// 188-201 MB of RSS and peaked at 201-202 MB (161-184 with no floor). A change
// counts from V8's next full collection, so when bulk activity starts and
// the room V8 works to was set with the floor, a full collection runs at
// once: without it, exports started with the floor's room and peaked at
// 206 MB of RSS against 195 MB with no floor (bench export, one run each).
// That is at most one collection more per full-collection cycle.
//
// The flag is read at each full collection, which computes the next limit
// from what it kept; it is set after each full collection, from the old
// generation's size then, and whenever bulk activity starts.
import { PerformanceObserver, constants as perf } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { v8Collector } from "./domain/shared/v8-gc.js";

/** The least room past what a full collection kept while no bulk bytes move. */
export const QUIET_ROOM_BYTES = 32 << 20;
/** How long no bulk activity must have run before the floor applies again. */
export const QUIET_AFTER_MS = 10_000;
/** Percents are set in steps of this, so a heap drifting by a few bytes does not set the flag after every collection. */
const STEP = 10;

/**
 * The growing percent for a heap that kept `liveBytes`: `percent`, or, for
 * a heap that kept less than `minRoom`, more when that leaves it less than
 * `minRoom` of room.
 */
export function growingPercent(liveBytes: number, percent: number, minRoom: number): number {
  if (!(liveBytes > 0) || liveBytes >= minRoom) return percent;
  return Math.max(percent, Math.ceil((100 * minRoom) / liveBytes / STEP) * STEP);
}

/** Bytes in the old generation now (every space but the young generation's): right after a full collection, what it kept. */
export function oldGenerationBytes(): number {
  let bytes = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== "new_space" && s.space_name !== "new_large_object_space") bytes += s.space_used_size;
  return bytes;
}

export interface HeapRoom {
  /** Bulk activity starts (a blob read or written, a streaming call); call the function returned when it ends (once; later calls do nothing). */
  bulkActivity(): () => void;
  /** The percent set last. */
  readonly percent: number;
  stop(): void;
}

export interface HeapRoomOptions {
  quietRoom?: number;
  setFlags?: (flags: string) => void;
  liveBytes?: () => number;
  quietAfterMs?: number;
  now?: () => number;
  /** A full collection now (default: V8's gc function, when it gives it). */
  collectFully?: () => void;
}

/**
 * Sets V8's heap growing percent as the file's head says. `percent` 0
 * leaves V8's own growing factor alone: nothing is set or watched, and
 * bulkActivity does nothing.
 */
export function limitHeapGrowth(percent: number, opts: HeapRoomOptions = {}): HeapRoom {
  const setFlags = opts.setFlags ?? setFlagsFromString;
  const liveBytes = opts.liveBytes ?? oldGenerationBytes;
  const quietRoom = opts.quietRoom ?? QUIET_ROOM_BYTES;
  const collectFully = opts.collectFully ?? (() => v8Collector()?.({ type: "major" }));
  const quietAfterMs = opts.quietAfterMs ?? QUIET_AFTER_MS;
  const now = opts.now ?? Date.now;
  let current = 0;
  let bulk = 0;
  let bulkEnded = Number.NEGATIVE_INFINITY;
  /** Whether the room V8 works to now was set with the floor: the percent in force at the last full collection was raised. */
  let floorInForce = false;
  const apply = () => {
    const live = liveBytes();
    const next = bulk === 0 && now() - bulkEnded >= quietAfterMs ? growingPercent(live, percent, quietRoom) : percent;
    if (next === current) return;
    current = next;
    setFlags(`--heap-growing-percent=${next}`);
  };
  if (percent <= 0) return { bulkActivity: () => () => {}, percent: 0, stop: () => {} };
  apply();
  const observer = new PerformanceObserver((list) => {
    if (!list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === perf.NODE_PERFORMANCE_GC_MAJOR)) return;
    floorInForce = current > percent;
    apply();
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    bulkActivity() {
      if (++bulk === 1) {
        apply();
        if (floorInForce) {
          floorInForce = false;
          collectFully();
        }
      }
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        if (--bulk === 0) bulkEnded = now();
      };
    },
    get percent() {
      return current;
    },
    stop: () => observer.disconnect(),
  };
}
