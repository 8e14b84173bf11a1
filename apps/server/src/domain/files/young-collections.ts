// A young-generation collection (a scavenge) for every 8 MiB an upload
// reads from the network, so the network's buffers are freed while young.
//
// Why: every chunk Node reads from a socket is a new buffer outside V8's
// heap, and V8 frees it only when it collects the object that holds it.
// V8 starts a young collection when the JS objects allocated fill the young
// generation (16 MiB per half here), not when buffers outside the heap add
// up, and an upload allocates few JS objects per byte: 14-39 young
// collections per GiB uploaded. Meanwhile V8 counts the buffers as growth
// of the old generation, and within the room HEAP_GROWING_PERCENT leaves it
// marked the whole heap again and again: 36-45 full collections per GiB,
// 1.2-1.6 s of CPU on V8's helper threads, where node:http alone ran 0-2.
// A young collection after every 8 MiB read costs well under a millisecond
// (the chunks are dead by then; the bytes read ahead are copies,
// ./read-ahead-slabs.ts), and took the full collections to 0-3 per GiB.
//
// The collections are V8's gc function's (../shared/v8-gc.ts).
import { setFlagsFromString } from "node:v8";
import { v8Collector } from "../shared/v8-gc.js";

/** Network bytes between two young collections. */
export const YOUNG_COLLECTION_BYTES = 8 << 20;

/**
 * These collections run on the main thread alone: there is little to
 * copy, and waiting for V8's helper threads on a busy machine cost more
 * than the work (median 0.84 ms, p90 4.0 ms a collection with them; 0.51
 * and 1.45 ms without, on 2 CPUs during 1 GiB uploads). Not when the
 * process was started with a parallel-scavenge flag of its own, which is
 * then left as given.
 */
const serialOnly = ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((arg) => arg.includes("parallel-scavenge"));

let sinceLast = 0;

/** Counts `bytes` read from the network; runs a young collection each YOUNG_COLLECTION_BYTES. */
export function networkBytesRead(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < YOUNG_COLLECTION_BYTES) return;
  sinceLast = 0;
  const collect = v8Collector();
  if (!collect) return;
  if (!serialOnly) {
    collect({ type: "minor" });
    return;
  }
  setFlagsFromString("--no-parallel-scavenge");
  try {
    collect({ type: "minor" });
  } finally {
    setFlagsFromString("--parallel-scavenge");
  }
}
