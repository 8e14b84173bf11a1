// One request's bytes appended to a staging in steps that end on multiples
// of the commit step (COMMIT_STEP_BYTES, 16 MiB) of the content, each its
// own store append, durable (fsynced file bytes, or a whole S3 object) when
// it returns. A request cut midway keeps every step it carried whole and
// drops only the step in progress, so the session's committed offset is at
// most one step behind the last byte that arrived, however large the
// request (max_chunk_bytes, 256 MiB by default). The store never shows a
// step in progress: its staged size moves only when an append returns.
//
// On the file system, the next step's bytes are written while a step is
// made durable (its fsync), so the sender does not wait on every fsync: with
// 16 MiB steps that wait was ~4.7 ms a step with the read-ahead below full,
// ~0.3 s per GiB, and the client's send stalled for more than 20 ms 9-34
// times per GiB uploaded. On S3 a step is one object, and the next waits.
//
// "Cut" means the body failed. A Node client that cancels a client stream
// between two messages half-closes it before it resets it, so the server
// reads a whole, shorter stream and keeps its last step too: its bytes are
// a true prefix of the content, and the digest is checked at commit.

import { ReadAheadSlabs } from "./read-ahead-slabs.js";
import { networkBytesRead } from "./young-collections.js";

/**
 * Bytes read ahead while a step is made durable (and no later step can take
 * them: on S3, or while two steps are): enough to keep reading
 * through an fsync at disk speed, with the kernel's socket buffer (several
 * MiB on loopback) taking in the rest; few enough that the bytes read on
 * behind them are taken in before a young collection moves them to the old
 * generation (./young-collections.ts).
 */
export const READ_AHEAD_BYTES = 4 << 20;

/** Appends `body` at `offset` and returns the new staged size (BlobStore.append bound to a staging). */
export type AppendFn = (offset: number, body: AsyncIterable<Uint8Array>) => Promise<number>;

export interface AppendInStepsOptions {
  /** Hears the end of each step as it becomes durable, in order. */
  onCommitted?: (offset: number) => void;
  /** Bytes read ahead at most while a step is made durable (default READ_AHEAD_BYTES). */
  readAheadBytes?: number;
  /** The store's appends may overlap (BlobStore.overlappingAppends): start the next step while one is made durable. */
  overlap?: boolean;
}

/**
 * Appends `chunks` from `offset` in steps ending on multiples of `step`;
 * returns the staged size after the last step. `onCommitted` hears each
 * step's end as it becomes durable, in order. An empty body is still one
 * (empty) append, so a wrong offset is refused as for any other write.
 *
 * With `overlap` (a store whose appends may overlap, BlobStore's
 * overlappingAppends), the next step's append starts as soon as the store
 * has taken the whole of a step, so its bytes go on to the store while that
 * step is made durable; at most one step waits so, and when it fails, so
 * does the request (once the append after it has settled).
 *
 * While a step is made durable (the store's fsync, or an S3 object's last
 * bytes), the next step's bytes keep arriving: they are read ahead into
 * memory, at most `readAheadBytes` (and one step), so the sender does not
 * stall on every commit. They are kept as copies, so the network's
 * buffers still die young (./read-ahead-slabs.ts). While the next step
 * takes those bytes in, each chunk it takes is replaced by reading on, so
 * the socket is not left unread while they are hashed and written.
 * Read-ahead bytes are not committed: if the step fails, or the body is cut,
 * they are dropped like the rest of the step in progress.
 *
 * Every chunk read counts towards a young-generation collection
 * (./young-collections.ts), which frees the network's buffers.
 */
export async function appendInSteps(append: AppendFn, offset: number, chunks: AsyncIterable<Uint8Array>, step: number, opts: AppendInStepsOptions = {}): Promise<number> {
  const { onCommitted, readAheadBytes = READ_AHEAD_BYTES, overlap = false } = opts;
  if (!(Number.isSafeInteger(step) && step > 0)) throw new RangeError(`the commit step must be a positive number of bytes, not ${step}`);
  const source = chunks[Symbol.asyncIterator]();
  // Chunks read and not yet appended, in order; a pull of the source in flight, if any.
  const queue: Uint8Array[] = [];
  let queued = 0;
  let pulling: Promise<void> | undefined;
  let ended = false;
  let failure: { err: unknown } | undefined;
  const ahead = Math.min(step, readAheadBytes);
  const endOfStep = (at: number) => (Math.floor(at / step) + 1) * step;
  // Bytes of a later step than the one in progress wait for its commit:
  // they are copied out of the network's buffers (./read-ahead-slabs.ts).
  const slabs = new ReadAheadSlabs();
  /** Where in the content the next byte read goes, and where the step in progress ends. */
  let readTo = offset;
  let stepEnd = offset;
  const queueCopy = (view: Buffer) => {
    queue.push(view);
    queued += view.length;
  };
  const pull = (): Promise<void> =>
    (pulling ??= source.next().then(
      (r) => {
        pulling = undefined;
        if (r.done) {
          ended = true;
          return;
        }
        const start = readTo;
        readTo += r.value.length;
        networkBytesRead(r.value.length);
        if (start >= stepEnd) slabs.copy(r.value, readTo, queueCopy);
        else {
          queue.push(r.value);
          queued += r.value.length;
        }
      },
      (err: unknown) => {
        pulling = undefined;
        ended = true;
        failure = { err };
      },
    ));
  const next = async (): Promise<Uint8Array | undefined> => {
    for (;;) {
      const chunk = queue.shift();
      if (chunk) {
        queued -= chunk.length;
        // Read on while the store takes in what was read ahead.
        if (!pulling && !ended && queued < ahead) void pull();
        return chunk;
      }
      if (failure) throw failure.err;
      if (ended) return undefined;
      await pull();
    }
  };
  const putBack = (chunk: Uint8Array) => {
    queue.unshift(chunk);
    queued += chunk.length;
  };
  let at = offset;
  /** With overlap: the step whose bytes the store has taken whole and is making durable, and where its bytes end. */
  let older: { appending: Promise<number>; settled: Promise<void>; isSettled: () => boolean; end: number } | undefined;
  /** Reads ahead until `done` settles, the body ends or the read-ahead is full. */
  const readAheadUntil = async (done: Promise<void>, isDone: () => boolean) => {
    while (!isDone() && !ended && queued < ahead) await Promise.race([pull(), done]);
  };
  /** The step's append resolved: its end is durable. */
  const committed = (end: number, expected: number) => {
    if (end !== expected) throw new Error(`the store's append ended at ${end}, but the step's bytes end at ${expected}`);
    slabs.committed(end);
    onCommitted?.(end);
  };
  try {
    for (;;) {
      const end = endOfStep(at);
      stepEnd = end;
      let position = at;
      let pieceDone = () => {};
      const pieceEnded = new Promise<void>((resolve) => (pieceDone = resolve));
      // The bytes of this step: up to `end`; a chunk that crosses it is split and its rest put back for the next step.
      const piece = async function* (): AsyncGenerator<Uint8Array> {
        try {
          while (position < end) {
            const chunk = await next();
            if (!chunk) return;
            const take = Math.min(chunk.length, end - position);
            if (take < chunk.length) putBack(chunk.subarray(take));
            position += take;
            yield take < chunk.length ? chunk.subarray(0, take) : chunk;
          }
        } finally {
          pieceDone();
        }
      };
      let settled = false;
      const appending = append(at, piece()).finally(() => {
        settled = true;
      });
      const appendSettled = appending.then(
        () => {},
        () => {},
      );
      const isSettled = () => settled;
      // Once the store has the step's bytes and is making them durable, read ahead.
      await Promise.race([pieceEnded, appendSettled]);
      if (overlap) {
        // The step before must be durable before a third starts: read ahead meanwhile.
        if (older) {
          await readAheadUntil(older.settled, older.isSettled);
          const before = older;
          older = undefined;
          try {
            committed(await before.appending, before.end);
          } catch (err) {
            await appendSettled;
            throw err;
          }
        }
        at = position;
        stepEnd = endOfStep(at);
        if (!settled && queued === 0 && !ended) await Promise.race([pull(), appendSettled]);
        if (!settled && queued > 0) {
          older = { appending, settled: appendSettled, isSettled, end: position };
          continue;
        }
        // The body ended (or this step's append did): nothing to overlap with.
        committed(await appending, position);
      } else {
        await readAheadUntil(appendSettled, isSettled);
        at = await appending;
        committed(at, position);
      }
      // A step that reached its end may be followed by more: look before starting another append.
      stepEnd = endOfStep(at);
      if (queued === 0 && !ended) await pull();
      if (queued === 0) {
        // Every append has returned: no store holds a slab.
        slabs.release();
        if (failure) throw failure.err;
        return at;
      }
    }
  } catch (err) {
    // A step still being made durable settles before the request ends.
    if (older) await older.settled;
    throw err;
  } finally {
    // Stop the body: at once, or after a read-ahead pull in flight (which
    // may wait on a slow sender, so it is not waited for here).
    const stop = async () => {
      if (!ended) await source.return?.(undefined);
    };
    if (pulling) void pulling.then(stop).catch(() => {});
    else await stop();
  }
}
