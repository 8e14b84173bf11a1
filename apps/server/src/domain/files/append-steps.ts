// One request's bytes appended to a staging in steps that end on multiples
// of the commit step (COMMIT_STEP_BYTES, 16 MiB) of the content, each its
// own store append, durable (fsynced file bytes, or a whole S3 object) when
// it returns. A request cut midway keeps every step it carried whole and
// drops only the step in progress, so the session's committed offset is at
// most one step behind the last byte that arrived, however large the
// request (max_chunk_bytes, 256 MiB by default). The store never shows a
// step in progress: its staged size moves only when an append returns.

/** Appends `body` at `offset` and returns the new staged size (BlobStore.append bound to a staging). */
export type AppendFn = (offset: number, body: AsyncIterable<Uint8Array>) => Promise<number>;

/**
 * Appends `chunks` from `offset` in steps ending on multiples of `step`;
 * returns the staged size after the last step. `onCommitted` hears each
 * step's end as it becomes durable. An empty body is still one (empty)
 * append, so a wrong offset is refused as for any other write.
 */
export async function appendInSteps(
  append: AppendFn,
  offset: number,
  chunks: AsyncIterable<Uint8Array>,
  step: number,
  onCommitted?: (offset: number) => void,
): Promise<number> {
  if (!(Number.isSafeInteger(step) && step > 0)) throw new RangeError(`the commit step must be a positive number of bytes, not ${step}`);
  const source = chunks[Symbol.asyncIterator]();
  let carry: Uint8Array | undefined;
  let ended = false;
  const next = async (): Promise<Uint8Array | undefined> => {
    if (carry) {
      const chunk = carry;
      carry = undefined;
      return chunk;
    }
    if (ended) return undefined;
    const r = await source.next();
    if (r.done) {
      ended = true;
      return undefined;
    }
    return r.value;
  };
  let at = offset;
  try {
    for (;;) {
      const end = (Math.floor(at / step) + 1) * step;
      let position = at;
      // The bytes of this step: up to `end`; a chunk that crosses it is split and its rest carried to the next step.
      const piece = async function* (): AsyncGenerator<Uint8Array> {
        while (position < end) {
          const chunk = await next();
          if (!chunk) return;
          const take = Math.min(chunk.length, end - position);
          if (take < chunk.length) carry = chunk.subarray(take);
          position += take;
          yield take < chunk.length ? chunk.subarray(0, take) : chunk;
        }
      };
      at = await append(at, piece());
      if (at !== position) throw new Error(`the store's append ended at ${at}, but the step's bytes end at ${position}`);
      onCommitted?.(at);
      // A step that reached its end may be followed by more: look before starting another append.
      if (!carry && !ended) carry = await next();
      if (!carry) return at;
    }
  } finally {
    if (!ended) await source.return?.(undefined);
  }
}
