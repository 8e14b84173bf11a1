// Multi-row statements in slices. One statement carries at most 65,535 bind
// parameters (the wire protocol counts them in 16 bits, on PostgreSQL and
// PGlite alike) and a manifest may hold 10,000 files, so inserts, deletes and
// IN lists over a manifest's rows run in batches, inside the caller's
// transaction.

/** Rows (or list items) per statement: a few thousand parameters at most, whatever a row's width. */
export const ROWS_PER_STATEMENT = 1000;

/** `run` over consecutive slices of `items`, one after another; their results, in order. */
export async function inBatches<T, R>(items: readonly T[], run: (batch: T[]) => Promise<R[]>, size = ROWS_PER_STATEMENT): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) for (const r of await run(items.slice(i, i + size))) out.push(r);
  return out;
}

/** `run` over consecutive slices of `items`, one after another, for its effect. */
export async function eachBatch<T>(items: readonly T[], run: (batch: T[]) => Promise<unknown>, size = ROWS_PER_STATEMENT): Promise<void> {
  for (let i = 0; i < items.length; i += size) await run(items.slice(i, i + size));
}
