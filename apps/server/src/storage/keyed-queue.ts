// Serialises the operations of one key (a staged upload's id) within the
// process: each runs after the one before it settles, whatever its outcome.
// Both blob stores queue a staging's appends and its commit, so two writers
// of one upload session on one replica take turns, and the second finds
// the first's bytes (and an offset that no longer matches) instead of
// writing beside them.

export type KeyedQueue = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

export function keyedQueue(): KeyedQueue {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(
      () => fn(),
      () => fn(),
    );
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
