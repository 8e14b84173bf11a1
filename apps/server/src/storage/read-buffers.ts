// The 1 MiB buffers blob reads fill, kept for the next read once a writer
// has written them.
//
// Why: a read stream allocates a fresh buffer per read, so an export that
// reads 1 GiB and writes it again allocated 1 GiB of memory outside V8's
// heap, each new buffer's pages faulted in by the kernel. V8 answers memory
// allocated outside its heap with full garbage collections (the "external
// memory pressure" in --trace-gc): about 80 mark-compacts per GiB
// exported. With these buffers (and the archive's chunks handed on one by
// one, exports/archive.ts) `bench export` went from 242 to 67
// mark-compacts in its run and from 6.3-7.8 to 3.6-4.3 server CPU s/GiB
// (issue 17). An export needs about six buffers at once.
//
// The contract: a buffer is handed back (recycle) only by code that was its
// chunk's last reader. That is the file store's writer once the bytes are on
// disk (fs-durable-write.ts) and the md5 job once the hash has copied them;
// nothing else holds a chunk by then (the archive writer and the digests
// only pass chunks on or copy them). A chunk that is never handed back (a
// download, whose socket holds it) is garbage like any other buffer, so a
// reader that does not know the contract is safe; only a wrong recycle is
// not.
export const READ_BUFFER_BYTES = 1 << 20;
/** Buffers kept between reads: what an export has in flight (read ahead, archive framing, a write batch being written and one being gathered). */
const KEEP = 8;

const spare: Buffer[] = [];
/** The memory of every buffer this module made, so recycle() takes back only its own. */
const ours = new WeakSet<ArrayBufferLike>();
let made = 0;

/** A buffer of READ_BUFFER_BYTES to read into: a spare one, else a new one. */
export function takeReadBuffer(): Buffer {
  const kept = spare.pop();
  if (kept) return kept;
  const fresh = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  ours.add(fresh.buffer);
  made += 1;
  return fresh;
}

/**
 * Hands back the buffer under `chunk` (a view of a takeReadBuffer() buffer)
 * for the next read. The caller must be the chunk's last reader. Chunks of
 * other memory (an upload's network buffers) are left alone.
 */
export function recycle(chunk: Uint8Array): void {
  const memory = chunk.buffer;
  if (!ours.has(memory) || spare.length >= KEEP) return;
  if (spare.some((b) => b.buffer === memory)) return; // handed back twice: keep it once
  spare.push(Buffer.from(memory, 0, READ_BUFFER_BYTES));
}

/** How many buffers are kept, and how many were ever made (for tests). */
export function readBufferCounts(): { spare: number; made: number } {
  return { spare: spare.length, made };
}
